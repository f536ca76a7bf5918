"""Rendering for people and spreadsheets: post-incident reports (Markdown, HTML) and safe CSV exports."""
