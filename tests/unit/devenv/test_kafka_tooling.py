"""The broker launcher fails with a message a person can act on, not a stack trace."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from devenv import kafka
from devenv.kafka import BrokerError


def test_missing_maven_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(BrokerError, match="`mvn` was not found on PATH; install Maven"):
        kafka.ensure_jars(tmp_path / "cache")


def test_missing_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match="`java` was not found on PATH"):
        kafka.start_broker(tmp_path / "data")


def test_taken_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(BrokerError, match=f"port {port} on 127.0.0.1 is already taken"):
            kafka.start_broker(tmp_path / "data", port=port)


def test_stale_data_directory_is_explained(tmp_path: Path) -> None:
    log = tmp_path / "broker.log"
    log.write_text("ERROR Exiting Kafka due to fatal exception\nInvalid cluster.id in: /x/meta.properties\n")

    class Exited:
        returncode = 1

        def poll(self) -> int:
            return 1

    broker = kafka.LocalBroker(Exited(), "127.0.0.1:1", tmp_path / "data", log)  # type: ignore[arg-type]
    text = kafka._explain_exit(broker)
    assert "holds another cluster's data; delete it (make clean)" in text
    assert "Invalid cluster.id" in text


def test_server_properties_are_single_node_kraft(tmp_path: Path) -> None:
    props = kafka.server_properties(tmp_path, 19092, 19093)
    assert "process.roles=broker,controller" in props
    assert "controller.quorum.voters=1@127.0.0.1:19093" in props
    assert "auto.create.topics.enable=false" in props
    assert "offsets.topic.replication.factor=1" in props


def test_cluster_ids_starting_with_a_dash_are_passed_safely(tmp_path: Path) -> None:
    """Regression: base64url ids can start with '-', which the storage tool took for an option."""
    args = kafka.format_args("-AbCdEfGhIjKlMnOpQrStUv", tmp_path / "server.properties")
    assert "--cluster-id=-AbCdEfGhIjKlMnOpQrStUv" in args
    assert "-t" not in args


def test_cluster_id_shape() -> None:
    ids = {kafka.new_cluster_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 22 for i in ids)


def test_sasl_broker_enforces_acls_and_needs_an_admin(tmp_path: Path) -> None:
    props = kafka.server_properties(tmp_path, 19092, 19093, {"admin": "a", "router": "r"})
    assert "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" in props
    assert "allow.everyone.if.no.acl.found=false" in props and "super.users=User:admin\n" in props
    assert 'user_router="r"' in props and "PLAINTEXT://" not in props.replace("SASL_PLAINTEXT://", "")
    with pytest.raises(kafka.BrokerError, match="admin"):
        kafka.server_properties(tmp_path, 19092, 19093, {"router": "r"})
