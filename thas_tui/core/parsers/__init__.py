"""Parsers of DIALS program log text, one module per program."""
