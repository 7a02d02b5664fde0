from __future__ import annotations

from datetime import UTC, datetime

from core.budget import Ledger


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_day_and_month_totals() -> None:
    ledger = Ledger()
    ledger.add("acme", ms(2026, 11, 21, 23), 1.0, "a")
    ledger.add("acme", ms(2026, 11, 22, 1), 2.0, "b")
    ledger.add("acme", ms(2026, 10, 31, 12), 5.0, "c")  # last month
    ledger.add("other", ms(2026, 11, 22, 1), 7.0, "d")
    assert ledger.spent("acme", ms(2026, 11, 22, 12)) == (2.0, 3.0)
    assert ledger.spent("nobody", ms(2026, 11, 22, 12)) == (0.0, 0.0)


def test_replayed_outcomes_count_once_and_old_months_are_pruned() -> None:
    ledger = Ledger()
    ledger.add("acme", ms(2026, 11, 22, 1), 2.0, "a")
    ledger.add("acme", ms(2026, 11, 22, 1), 2.0, "a")
    ledger.add("acme", ms(2026, 10, 2), 9.0, "b")
    ledger.prune(ms(2026, 11, 22))
    assert ledger.spent("acme", ms(2026, 11, 22, 12)) == (2.0, 2.0)
