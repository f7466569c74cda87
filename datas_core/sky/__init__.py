"""Vectorized sky geometry (numpy only in hot paths; astropy is the oracle in tests)."""
