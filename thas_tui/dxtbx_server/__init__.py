"""The image helper, run under DIALS's own Python (never imported by the dashboard)."""
