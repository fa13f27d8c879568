"""Readers of DIALS's structured output files (.expt JSON, .refl msgpack, json= outputs)."""
