"""Devices behind small interfaces; drivers: simulator (here), alpaca and indi (to come)."""
