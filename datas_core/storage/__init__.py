"""Object storage for uploaded files and products: a local directory by default, S3 when
DATAS_STORAGE_URL is s3://bucket/prefix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datas_core.storage.base import ObjectMissing, StorageError, Store, check_key
from datas_core.storage.local import LocalStore

if TYPE_CHECKING:
    from datas_core.settings import Settings

__all__ = [
    "LocalStore",
    "ObjectMissing",
    "StorageError",
    "Store",
    "check_key",
    "open_store",
    "store_from_settings",
]


def store_from_settings(settings: Settings) -> Store:
    """DATAS_STORAGE_URL when set, else the local directory (DATAS_STORAGE_DIR)."""
    return open_store(settings.storage_url or settings.objects_dir, settings)


def open_store(url: str | Path, settings: Settings | None = None) -> Store:
    """`s3://bucket/prefix` for S3, `file:///path` or a plain path for a local directory.

    For S3 the endpoint (DATAS_S3_ENDPOINT_URL), region (DATAS_S3_REGION, else the AWS chain)
    and the local spool directory ($DATAS_HOME/spool) come from `settings` (default: the
    environment). Nothing is contacted here: `Store.check()` tells whether the store is usable."""
    text = str(url)
    if text.startswith("s3://"):
        from datas_core.settings import get_settings
        from datas_core.storage.s3 import S3Store  # boto3 only when S3 is used

        settings = settings or get_settings()
        return S3Store.from_url(
            text,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            spool_dir=settings.home_dir / "spool",
        )
    if text.startswith("file://"):
        text = text[len("file://") :]
    return LocalStore(Path(text))
