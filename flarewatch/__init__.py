"""Flarewatch: social-media sentiment monitoring for IT incidents."""

__version__ = "0.1.0"
