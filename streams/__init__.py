"""Composition root and edges: the only place objects are constructed (apps, clients, models)."""
