from __future__ import annotations

from core.budget import Ledger
from core.outcomes import encode, pack
from streams.ledger import apply

NOW = 1_800_000_000_000


def _row(rid: str, tenant: str, cost: float) -> bytes:
    return encode("requests", {"request_id": rid, "tenant": tenant, "completed_at": NOW, "cost_usd": cost})


def test_every_request_row_of_a_packed_message_is_counted_once_and_bad_ones_are_counted() -> None:
    ledger = Ledger()
    message = pack([_row("a", "acme", 0.5), encode("decisions", {"request_id": "a"}), _row("b", "acme", 0.25),
                     b'{"t":"requests","r":{"tenant":"acme","cost_usd":1}}', _row("a", "acme", 0.5)], 1_000_000)[0]
    assert apply(ledger, message) == 1  # the row without completed_at or id is skipped and counted
    assert ledger.spent("acme", NOW) == (0.75, 0.75)
    assert apply(ledger, None) == 0
