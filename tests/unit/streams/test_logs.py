"""Worker log lines: JSON or text, and every line about a request names it."""

from __future__ import annotations

import io
import logging
import logging.config

import orjson
import pytest

from core.config import Settings
from core.errors import ConfigError
from core.log_context import about
from streams.logs import logging_config


def _capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    cfg = logging_config("info", fmt)
    stream = io.StringIO()
    cfg["handlers"]["default"] = {**cfg["handlers"]["default"], "stream": stream}
    del cfg["root"]  # leave the root logger (and pytest's capture) alone
    cfg["loggers"] = {"t.logs": {"level": "INFO", "handlers": ["default"], "propagate": False}}
    logging.config.dictConfig(cfg)
    return logging.getLogger("t.logs"), stream


def test_json_lines_carry_the_request_they_are_about() -> None:
    log, out = _capture("json")
    with about("route", "r-42", "acme"):
        log.warning("no model fits %s", "the budget")
    log.info("idle")
    try:
        raise ValueError("boom")
    except ValueError:
        with about("invoke", "r-43", "acme"):
            log.exception("invoke failed")
    first, second, third = (orjson.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "no model fits the budget" and first["level"] == "warning"
    assert (first["stage"], first["request_id"], first["tenant"]) == ("route", "r-42", "acme")
    assert "request_id" not in second and second["message"] == "idle"
    assert third["request_id"] == "r-43" and "ValueError: boom" in third["exception"]


def test_text_lines_append_the_request_and_the_format_is_checked() -> None:
    log, out = _capture("text")
    with about("verify", "r-7", "globex"):
        log.warning("escalating")
    assert out.getvalue().rstrip().endswith("escalating [verify r-7 tenant=globex]")
    assert Settings.from_env({"ROUTER_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="ROUTER_LOG_FORMAT: expected text or json, got 'xml'"):
        Settings.from_env({"ROUTER_LOG_FORMAT": "xml"})
