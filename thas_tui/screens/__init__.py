"""Screens and dialogs of the thas-tui dashboard."""
