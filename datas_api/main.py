"""ASGI entry point: `uvicorn datas_api.main:app` (what `datas serve` runs)."""

from datas_api.app import create_app

app = create_app()
