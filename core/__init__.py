"""Pure domain: events, config, catalog, errors and per-stage decisions.

Nothing here imports Faust, Kafka, httpx, LightGBM or ClickHouse clients, so every
decision is testable in milliseconds with plain pytest.
"""
