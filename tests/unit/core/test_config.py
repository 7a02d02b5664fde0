from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings, provider_key
from core.errors import ConfigError


def test_from_env_reads_overrides() -> None:
    s = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "ROUTER_TOPIC_PREFIX": "t.", "ROUTER_PARTITIONS": "3"})
    assert (s.kafka_bootstrap, s.topic_prefix, s.partitions) == ("k:9092", "t.", 3)
    assert s.effective_clickhouse_url.startswith("chdb:///")


def test_bad_integer_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="ROUTER_PARTITIONS: expected an integer, got 'six'"):
        Settings.from_env({"ROUTER_PARTITIONS": "six"})


def test_provider_key_from_env_or_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("sk-file\n")
    assert provider_key("K", {"K": "sk-env"}) == "sk-env"
    assert provider_key("K", {"K_FILE": str(secret)}) == "sk-file"
    assert provider_key("", {}) == ""


def test_unreadable_secret_file_does_not_leak_contents(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        provider_key("K", {"K_FILE": str(tmp_path / "missing")})
    assert "K_FILE: cannot read secret file" in str(info.value)


def test_clickhouse_password_from_file_is_not_in_repr(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    s = Settings.from_env({"CLICKHOUSE_PASSWORD_FILE": str(secret)})
    assert s.clickhouse_password == "hunter2"
    assert "hunter2" not in repr(s)


def test_verify_thresholds_are_validated() -> None:
    assert Settings.from_env({"ROUTER_VERIFY_THRESHOLDS": "0.4,0.3,0"}).verify_thresholds == (0.4, 0.3, 0.0)
    with pytest.raises(ConfigError, match="ROUTER_VERIFY_THRESHOLDS: thresholds must be between 0 and 1"):
        Settings.from_env({"ROUTER_VERIFY_THRESHOLDS": "2,0,0"})


def test_sasl_settings_need_credentials_and_feed_every_client() -> None:
    with pytest.raises(ConfigError, match="KAFKA_SASL_USERNAME"):
        Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"})
    with pytest.raises(ConfigError, match="SSL"):
        Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SSL"})
    s = Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_USERNAME": "router",
                           "KAFKA_SASL_PASSWORD": "pw"})
    assert s.kafka_client_kwargs()["sasl_plain_username"] == "router"
    assert "pw" not in repr(s)
    assert Settings.from_env({}).kafka_client_kwargs() == {}
