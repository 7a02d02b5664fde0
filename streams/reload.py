"""Apply a changed catalog file without a restart and without losing in-flight work.

In-flight requests keep the decision they carry; new decisions use the new catalog. A catalog
that fails validation, or that adds providers (they need new HTTP clients), is refused with a
logged error and the running catalog stays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from core.catalog import Catalog, load_catalog
from core.catalog_ref import CatalogRef
from core.errors import ConfigError
from core.quality_memory import QualityMemory

log = logging.getLogger(__name__)


class CatalogReloader:
    def __init__(self, path: Path, placeholders: Mapping[str, str], ref: CatalogRef,
                 memory: QualityMemory | None = None, overrides: str = "") -> None:
        self.path, self.placeholders, self.overrides = path, placeholders, overrides
        self.ref, self.memory = ref, memory
        self._mtime = self._stat()

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def check(self) -> bool:
        """Reload if the file changed; True when a new catalog was applied."""
        mtime = self._stat()
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            catalog = load_catalog(self.path, self.placeholders, self.overrides)
        except ConfigError as exc:
            log.error("catalog change refused, keeping the running one: %s", exc)
            return False
        new_providers = set(catalog.providers) - set(self.ref.current.providers)
        if new_providers:
            log.error("catalog change refused: new providers %s need a restart", sorted(new_providers))
            return False
        self.apply(catalog)
        log.warning("catalog reloaded from %s: %d models", self.path, len(catalog.models))
        return True

    def apply(self, catalog: Catalog) -> None:
        """Swap the one holder every stage reads (the memory first learns the new models' names)."""
        if self.memory is not None:
            self.memory.ensure(catalog.models)
        self.ref.swap(catalog)
