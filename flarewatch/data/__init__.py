"""Data files shipped with Flarewatch (the demo dataset and its attribution)."""
