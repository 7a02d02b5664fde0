"""The example model catalog; installed as the package data of ``llm_router_config`` (override with ROUTER_CATALOG)."""
