"""Object storage for uploaded files and products: a local directory by default, S3 when
DATAS_STORAGE_URL is s3://bucket/prefix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from datas_core.storage.base import StorageError, Store, check_key
from datas_core.storage.local import LocalStore

if TYPE_CHECKING:
    from datas_core.settings import Settings

__all__ = ["LocalStore", "StorageError", "Store", "check_key", "open_store", "store_from_settings"]


def store_from_settings(settings: Settings) -> Store:
    """DATAS_STORAGE_URL when set, else the local directory (DATAS_STORAGE_DIR)."""
    return open_store(settings.storage_url or settings.objects_dir)


def open_store(url: str | Path) -> Store:
    """`s3://bucket/prefix` for S3, `file:///path` or a plain path for a local directory."""
    text = str(url)
    if text.startswith("s3://"):
        from datas_core.storage.s3 import S3Store  # boto3 only when S3 is used

        return S3Store.from_url(text)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return LocalStore(Path(text))
