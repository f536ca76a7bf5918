"""The workflows: ingest posts, score them, watch for spikes and alert; the demo build."""
