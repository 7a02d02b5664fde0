"""The one holder of a worker's running catalog.

Routing, invocation, health and verification all read ``CatalogRef.current`` on each call instead
of keeping their own copy, so a reload swaps one reference and is applied whole: the next decision,
call, breaker check and escalation all see the new catalog (design §3, hot reload). What they derive
from it (the routing order, concurrency slots, rate buckets) is re-derived when ``version`` moves.
"""

from __future__ import annotations

from core.catalog import Catalog


class CatalogRef:
    def __init__(self, catalog: Catalog) -> None:
        self.current = catalog
        self.version = 0

    def swap(self, catalog: Catalog) -> None:
        """Make ``catalog`` the running one for every reader at once."""
        self.current = catalog
        self.version += 1


def as_ref(catalog: Catalog | CatalogRef) -> CatalogRef:
    """A holder for ``catalog`` (a fixed catalog gets one of its own; a holder is shared as it is)."""
    return catalog if isinstance(catalog, CatalogRef) else CatalogRef(catalog)
