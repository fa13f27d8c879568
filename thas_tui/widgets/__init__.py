"""Widgets of the thas-tui dashboard."""
