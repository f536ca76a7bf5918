"""Streamlit dashboard: the war room for comms, support and incident leads."""

# Support works down the list: the Outreach table holds the highest priorities, its CSV every row.
OUTREACH_ROWS_SHOWN = 500
