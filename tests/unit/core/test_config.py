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
    with pytest.raises(ConfigError, match="SASL_SSL"):
        Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "TLS"})
    with pytest.raises(ConfigError, match="KAFKA_SASL_USERNAME"):
        Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    s = Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_USERNAME": "router",
                           "KAFKA_SASL_PASSWORD": "pw"})
    assert s.kafka_client_kwargs()["sasl_plain_username"] == "router"
    assert "pw" not in repr(s)
    assert Settings.from_env({}).kafka_client_kwargs() == {}


def test_tls_settings_build_a_verifying_context_for_every_client(tmp_path: Path) -> None:
    import ssl

    import certifi

    s = Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "ssl", "KAFKA_SSL_CAFILE": certifi.where(),
                           "ROUTER_REPLICATION_FACTOR": "3"})
    kw = s.kafka_client_kwargs()
    assert kw["security_protocol"] == "SSL" and "sasl_mechanism" not in kw
    assert isinstance(kw["ssl_context"], ssl.SSLContext) and kw["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert s.kafka_replication_factor == 3
    both = Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "router",
                              "KAFKA_SASL_PASSWORD": "pw"}).kafka_client_kwargs()
    assert both["sasl_plain_username"] == "router" and isinstance(both["ssl_context"], ssl.SSLContext)
    missing = Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": str(tmp_path / "nope.pem")})
    with pytest.raises(ConfigError, match="KAFKA_SSL_CAFILE"):
        missing.kafka_client_kwargs()


def test_the_faust_app_gets_the_tls_credentials_and_the_replication_factor() -> None:
    import certifi
    import faust

    from streams.app import base_app

    s = Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": certifi.where(),
                           "ROUTER_REPLICATION_FACTOR": "3", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    app = base_app("tls-check", s, 0)
    assert isinstance(app.conf.broker_credentials, faust.SSLCredentials)
    assert app.conf.topic_replication_factor == 3


def test_a_misspelt_setting_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"ROUTER_PARTITONS \(did you mean ROUTER_PARTITIONS\?\)"):
        Settings.from_env({"ROUTER_PARTITONS": "12"})
    assert Settings.from_env({"ROUTER_PARTITIONS": "12", "OTHER_THING": "x"}).partitions == 12


def test_tenant_topics_are_names_kafka_accepts() -> None:
    s = Settings.from_env({"ROUTER_TENANT_TOPICS": "acme, globex-2", "ROUTER_SHARED_REQUESTS": "0"})
    assert s.tenant_topics == ("acme", "globex-2") and s.shared_requests is False
    with pytest.raises(ConfigError, match="ROUTER_TENANT_TOPICS"):
        Settings.from_env({"ROUTER_TENANT_TOPICS": "acme,bad name"})
