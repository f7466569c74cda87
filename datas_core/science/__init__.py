"""Frame reduction: validation, astrometry, photometry, calibration, quality flags."""
