"""Where the alert payloads live: the real ones in ../shared, the built ones in data/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import missing_system_part

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared/fixtures/alerts"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The real payloads (../shared/fixtures/alerts); a missing folder is a missing part."""
    if not (FIXTURES / "README.md").is_file():
        missing_system_part(
            f"the real alert payloads are not at {FIXTURES}: check out the shared folder "
            "beside the repository (../shared/fixtures/alerts)"
        )
    return FIXTURES


def read(path: Path) -> bytes:
    return path.read_bytes()
