"""Make astropy work with no network: never download IERS tables, warn (not fail) when they age."""

from __future__ import annotations

_configured = False


def configure_astropy_offline() -> None:
    """Idempotent. Call before any astropy time/coordinate work in a DATAS process."""
    global _configured
    if _configured:
        return
    from astropy.utils import iers
    from astropy.utils.data import conf as data_conf

    iers.conf.auto_download = False
    iers.conf.auto_max_age = None  # predictive values beyond the bundled table: accuracy < 1 s
    iers.conf.iers_degraded_accuracy = "warn"
    data_conf.allow_internet = False
    _configured = True
