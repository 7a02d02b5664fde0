"""LLM provider adapters over httpx. Each implements ``core.ports.Provider``."""
