"""DATAS domain logic: framework-free (no Dagster, no FastAPI)."""

__version__ = "0.1.0"
