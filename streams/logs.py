"""The worker's log format: text (the default) or JSON lines (``ROUTER_LOG_FORMAT=json``), each line
about a request carrying its ``request_id``, ``tenant`` and ``stage`` (``core/log_context.py``)."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from core.log_context import current


class RequestContext(logging.Filter):
    """Adds the current request's stage, id and tenant to every record (empty strings outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current()
        record.stage = ctx.get("stage", "")
        record.request_id = ctx.get("request_id", "")
        record.tenant = ctx.get("tenant", "")
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        for key in ("stage", "request_id", "tenant"):
            value = getattr(record, key, "")
            if value:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


_TEXT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s%(context)s"


class Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", "")
        record.context = f" [{record.stage} {rid} tenant={record.tenant}]" if rid else ""  # type: ignore[attr-defined]
        return super().format(record)


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the worker (handed to Faust's Worker, which applies it)."""
    formatter: dict[str, Any] = {"()": JsonLines} if fmt == "json" else {"()": Text, "format": _TEXT}
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContext}},
        "formatters": {"default": formatter},
        "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                 "formatter": "default", "filters": ["request"], "level": level.upper()}},
        "root": {"level": level.upper(), "handlers": ["default"]},
    }
