"""A beamline session: every sweep under a data directory, found, spot-checked and processed."""
