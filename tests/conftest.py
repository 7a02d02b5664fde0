from __future__ import annotations

import pytest

from core.catalog import Catalog, load_catalog
from core.config import REPO_ROOT


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(REPO_ROOT / "config" / "catalog.toml", {"sim": "http://sim.test"})
