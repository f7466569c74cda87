"""The object store light curves are written to (DATAS_STORAGE_URL, else the local directory)."""

from dagster import ConfigurableResource

from datas_core.settings import get_settings
from datas_core.storage import Store, open_store, store_from_settings


class ObjectStore(ConfigurableResource):  # type: ignore[type-arg]
    """Empty URL: the DATAS_* settings; else `s3://bucket/prefix`, `file:///path` or a path."""

    url: str = ""

    def open(self) -> Store:
        return open_store(self.url) if self.url else store_from_settings(get_settings())
