"""Streamlit dashboard: the war room for comms, support and incident leads."""
