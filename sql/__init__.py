"""Migrations (NNN_*.sql), dashboard queries (dashboards/) and checks (checks/).

Installed as the package data of ``llm_router_sql`` (pyproject package-dir; core.config.packaged).
"""
