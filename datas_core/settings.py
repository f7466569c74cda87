"""One settings object for every DATAS process, read from DATAS_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from datas_core.storage.base import check_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATAS_", extra="ignore")

    env: Literal["development", "production"] = Field(
        "development",
        description="`production` refuses unsafe defaults (SQLite, insecure cookies).",
    )
    home: Path = Field(
        Path(".datas"), description="State directory: SQLite file, objects, Dagster."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy or plain URL; postgresql://user@host/db works. "
        "Default: SQLite file $DATAS_HOME/datas.db",
    )
    storage_url: str | None = Field(
        None,
        description="Object store for frames and products: s3://bucket/prefix (S3 or an S3-"
        "compatible service, see DATAS_S3_ENDPOINT_URL) or a directory; "
        "default: DATAS_STORAGE_DIR.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible service (MinIO, Ceph, moto); empty: AWS."
    )
    s3_region: str | None = Field(
        None, description="S3 region; empty: AWS_DEFAULT_REGION or the AWS config file."
    )
    storage_dir: Path | None = Field(
        None, description="Local object store root. Default: $DATAS_HOME/objects"
    )
    api_host: str = Field("127.0.0.1", description="Address `datas serve` binds to.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port `datas serve` binds to.")
    dagster_port: int = Field(3000, ge=1, le=65535, description="Dagster UI port for `make run`.")
    public_url: str | None = Field(
        None, description="URL clients use to reach the API (for links). Default: http://host:port"
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest JSON request body accepted (413 above)."
    )
    max_frame_bytes: int = Field(
        512 * 1024 * 1024, ge=1024, description="Largest FITS frame upload (413 above)."
    )
    max_batch: int = Field(5000, ge=1, description="Most observations accepted in one request.")
    heartbeat_stale_minutes: float = Field(
        15.0, gt=0, description="A site whose last heartbeat is older is reported stale."
    )
    session_hours: float = Field(12.0, gt=0, description="Dashboard login session lifetime.")
    cookie_secure: bool = Field(
        False, description="Send the session cookie only over HTTPS (required in production)."
    )
    key_touch_seconds: float = Field(
        60.0, ge=0, description="API key last-used time is written at most this often."
    )
    auth_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="A verified API key is trusted this long per worker "
        "(revocation takes effect within it; 0 checks the database on every request).",
    )
    catalog_recheck_seconds: float = Field(
        1.0,
        ge=0,
        description="The ranked list re-reads changed targets and sites at most this "
        "late (0: on every request).",
    )
    site_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="A site's position and limits are re-read at most this late by "
        "the ranked list (0: on every request).",
    )
    scheduler_lookahead_minutes: float = Field(
        120.0, gt=0, le=1440, description="How far ahead the ranking looks (setting targets)."
    )
    scheduler_sun_limit_deg: float = Field(
        -12.0, ge=-18, le=0, description="Sun altitude below which a site observes."
    )
    scheduler_validity_minutes: float = Field(
        10.0, gt=0, description="A stored ranking is served this long; then sites rank live."
    )
    scheduler_keep_per_site: int = Field(50, ge=1, le=1000, description="Entries stored per site.")
    log_level: str = Field("INFO", description="Python logging level for server processes.")
    reference_catalog: str = Field(
        "tycho2-index",
        description="Photometric/astrometric reference for frame reduction: 'tycho2-index' (the "
        "astrometry.net index files, offline), 'gaia-dr3' or 'apass9' (VizieR, cached on disk), "
        "or a CSV path (id,ra_deg,dec_deg,<band>...). Simulator frames use the synthetic sky.",
    )
    reduction_batch_size: int = Field(
        50, ge=1, le=5000, description="Frames reduced per Dagster run (one run per sensor tick)."
    )
    reduction_runs_per_tick: int = Field(
        1, ge=1, le=100, description="Reduction runs the frames sensor may launch per tick."
    )
    reduction_max_attempts: int = Field(
        3, ge=1, le=20, description="Tries before a frame that keeps failing stays 'failed'."
    )
    solve_cpu_seconds: float = Field(
        20.0, gt=0, le=600, description="CPU limit of one astrometry.net solve-field call."
    )
    max_frame_pixels: int = Field(
        200_000_000,
        ge=1024,
        description="Largest frame (pixels over all image HDUs) a reduction reads; a larger "
        "declared size (or a decompression bomb) is rejected `too_large` before data is read.",
    )
    reduction_stale_minutes: float = Field(
        30.0,
        gt=0,
        description="A frame claimed for reduction this long ago without a result (its worker "
        "died) is offered again; the lost claim counts as an attempt.",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed logins per account or per client address within "
        "DATAS_LOGIN_WINDOW_SECONDS before further tries are refused with 429.",
    )
    login_window_seconds: float = Field(
        300.0, gt=0, description="Window over which failed logins are counted."
    )
    login_concurrency: int = Field(
        2,
        ge=1,
        le=64,
        description="Password checks run at once per worker (the rest wait, "
        "bounded, or get 429): slow hashing never starves other requests.",
    )
    aavso_obscode: str = Field(
        "DATAS",
        max_length=16,
        description="AAVSO observer code written into AAVSO exports (#OBSCODE). The default "
        "'DATAS' is a placeholder AAVSO will not accept: set your own code, or pass ?obscode=.",
    )
    qc_zero_point_scatter_mag: float = Field(
        0.1,
        gt=0,
        description="Data-quality check: warn when the robust scatter of the photometric zero "
        "point of one site, night and filter exceeds this (mag).",
    )
    qc_flagged_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Data-quality check: warn when more than this share of one site's "
        "observations in a night carries quality flags.",
    )

    @field_validator("storage_url", "s3_endpoint_url", "s3_region", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("storage_url")
    @classmethod
    def _storage_url_names_a_bucket(cls, value: str | None) -> str | None:
        if value and value.startswith("s3:"):
            parts = urlsplit(value)
            if not parts.netloc:
                raise ValueError(f"{value!r} names no bucket; write it as s3://bucket/prefix")
            prefix = parts.path.strip("/")
            if prefix:
                check_key(prefix)  # no `.` or `..` parts
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not a URL; write it as http(s)://host:port")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            if self.resolved_database_url.startswith("sqlite"):
                raise ValueError(
                    "DATAS_ENV=production needs DATAS_DATABASE_URL pointing at PostgreSQL "
                    "(e.g. postgresql://datas@db/datas); SQLite is for the embedded default only"
                )
            if not self.cookie_secure:
                raise ValueError(
                    "DATAS_ENV=production needs DATAS_COOKIE_SECURE=true (serve behind HTTPS)"
                )
        return self

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'datas.db'}"

    @property
    def objects_dir(self) -> Path:
        return (self.storage_dir or self.home_dir / "objects").expanduser().resolve()

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
