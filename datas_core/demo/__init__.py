"""A realistic demo network: real observatory sites, real targets, three campaigns."""
