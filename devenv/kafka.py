"""A real single-node Apache Kafka 3.9.1 (KRaft, combined broker+controller) without Docker.

The jars come from Maven Central once (``mvn dependency:copy-dependencies``) into a cache
directory; each start formats a KRaft log directory, launches ``kafka.Kafka`` with the
machine's Java on loopback ports, and waits until it accepts connections.

Command line (a broker that stays up until Ctrl-C)::

    python -m devenv.kafka --data-dir var/kafka --port 9092
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KAFKA_VERSION = "3.9.1"
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.dev</groupId><artifactId>kafka-broker-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{v}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
"""
_LOG4J = """log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""
STARTED = b"Kafka Server started"


class BrokerError(RuntimeError):
    """The local broker could not be set up or started; the message says why and what to do."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llm-router" / f"kafka-{KAFKA_VERSION}"


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        msg = f"`{tool}` was not found on PATH; {hint}"
        raise BrokerError(msg)
    return path


def ensure_jars(target: Path | None = None) -> Path:
    """Fetch the broker jars once; return the directory holding them."""
    libs = (target or cache_dir()) / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = _require("mvn", "install Maven (apt-get install maven) so the Kafka jars can be fetched")
    _require("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    work = libs.parent / "fetch"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "pom.xml").write_text(_POM.format(v=KAFKA_VERSION))
    staging = work / "libs"
    print(f"fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central into {libs} (once)...", flush=True)
    proc = subprocess.run(
        [mvn, "-q", "-B", "-f", str(work / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={staging}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        msg = "mvn could not fetch the Kafka jars:\n  " + "\n  ".join(tail)
        raise BrokerError(msg)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    marker.touch()
    shutil.rmtree(work, ignore_errors=True)
    return libs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def server_properties(data_dir: Path, port: int, controller_port: int,
                      users: Mapping[str, str] | None = None) -> str:
    """The broker's configuration; with ``users``, SASL/PLAIN on every listener and ACLs enforced by
    KRaft's StandardAuthorizer (``admin`` is the super user that grants the others their ACLs)."""
    return _listeners(port, controller_port, users) + f"""log.dirs={data_dir / "logs"}
num.partitions=6
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
log.retention.hours=24
"""


def terminate(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, wait for a clean exit, SIGKILL if it does not come."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@dataclass
class LocalBroker:
    """A running broker process; ``stop()`` shuts it down and waits."""

    process: subprocess.Popen[bytes]
    bootstrap: str
    data_dir: Path
    log_path: Path
    libs: Path = Path()

    def stop(self, timeout: float = 30.0) -> None:
        terminate(self.process, timeout)

    def __enter__(self) -> LocalBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_broker(data_dir: Path, port: int | None = None, fresh: bool = True, timeout: float = 90.0,
                 heap_mb: int = 512, users: Mapping[str, str] | None = None) -> LocalBroker:
    """Format (when new) and start a broker under ``data_dir``; wait until it serves clients."""
    if port is not None and port_in_use(port):
        msg = (f"port {port} on 127.0.0.1 is already taken; stop what holds it, pick another port, "
               f"or point KAFKA_BOOTSTRAP_SERVERS at that broker if it is one")
        raise BrokerError(msg)
    java = _require("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    libs = ensure_jars()
    port = port or free_port()
    controller_port = free_port()
    if fresh:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    props = data_dir / "server.properties"
    props.write_text(server_properties(data_dir.resolve(), port, controller_port, users))
    props.chmod(0o600)  # it holds the SASL passwords
    (data_dir / "log4j.properties").write_text(_LOG4J)
    _format(java, libs, data_dir, props)
    log_path = data_dir / "broker.log"
    # C1 only (-XX:TieredStopAtLevel=1): with C2 on, a fresh broker spent more than half its CPU in
    # the first 15,000 requests of `make bench` compiling (7 of 12 s in the first 5,000), on the
    # two cores the workers need; serving with C1's code cost no more here (0.65-0.72 ms of CPU per
    # request against 0.73-0.82 once C2 had settled). A production broker is not started here.
    cmd = [java, f"-Xms{heap_mb // 2}m", f"-Xmx{heap_mb}m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
           "-XX:TieredStopAtLevel=1",
           "-Djava.awt.headless=true", f"-Dlog4j.configuration=file:{(data_dir / 'log4j.properties').resolve()}",
           f"-Dkafka.logs.dir={data_dir.resolve()}", "-cp", f"{libs}/*", "kafka.Kafka", str(props)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    broker = LocalBroker(proc, f"127.0.0.1:{port}", data_dir, log_path, libs)
    _wait_ready(broker, port, timeout)
    return broker


def _listeners(port: int, controller_port: int, users: Mapping[str, str] | None) -> str:
    common = f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
controller.listener.names=CONTROLLER
"""
    if not users:
        return common + f"""listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
"""
    if "admin" not in users:
        msg = "a SASL broker needs an 'admin' user (the super user that grants ACLs)"
        raise BrokerError(msg)
    accounts = " ".join(f'user_{name}="{pw}"' for name, pw in users.items())
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="admin" password="{users["admin"]}" {accounts};')
    return common + f"""listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config={jaas}
listener.name.controller.plain.sasl.jaas.config={jaas}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
"""


def new_cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding: what Kafka's Uuid expects."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def format_args(cluster_id: str, props: Path) -> list[str]:
    # "--cluster-id=ID", not "-t ID": an id may start with "-" and would be read as an option
    return ["format", f"--cluster-id={cluster_id}", f"--config={props}", "--ignore-formatted"]


def _format(java: str, libs: Path, data_dir: Path, props: Path) -> None:
    meta = data_dir / "logs" / "meta.properties"
    if meta.exists():
        return  # already formatted (reused data directory)
    proc = subprocess.run(
        [java, "-cp", f"{libs}/*", "kafka.tools.StorageTool", *format_args(new_cluster_id(), props)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        msg = f"formatting KRaft storage in {data_dir} failed:\n  {proc.stdout}{proc.stderr}".strip()
        raise BrokerError(msg)


def _wait_ready(broker: LocalBroker, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.process.poll() is not None:
            raise BrokerError(_explain_exit(broker))
        if STARTED in broker.log_path.read_bytes() and port_in_use(port):
            return
        time.sleep(0.2)
    broker.stop()
    msg = f"Kafka did not start within {timeout:.0f}s; see {broker.log_path}"
    raise BrokerError(msg)


def _explain_exit(broker: LocalBroker) -> str:
    text = broker.log_path.read_text(errors="replace")
    tail = "\n  ".join(text.strip().splitlines()[-8:])
    if "Invalid cluster.id" in text or ("meta.properties" in text and "does not match" in text):
        hint = f"the data directory {broker.data_dir} holds another cluster's data; delete it (make clean)"
    elif "Address already in use" in text:
        hint = "a port the broker needs is already taken; stop the other process or choose another port"
    elif "UnsupportedClassVersionError" in text:
        hint = "the Java runtime is too old; Kafka 3.9 needs Java 8+, this project expects 17"
    else:
        hint = "see the log tail below"
    return f"Kafka exited with code {broker.process.returncode}: {hint}\n  {tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devenv.kafka", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var/kafka"))
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--keep-data", action="store_true", help="reuse the data directory instead of wiping it")
    parser.add_argument("--users", default="", help="SASL/PLAIN with ACLs enforced: name=password,... (an 'admin' "
                        "super user is required; grant the others with devenv.acls, see the README)")
    args = parser.parse_args(argv)
    pairs = [u.split("=", 1) for u in args.users.split(",") if "=" in u]
    users = {name: password for name, password in pairs} if pairs else None
    try:
        broker = start_broker(args.data_dir, args.port, fresh=not args.keep_data, users=users)
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Kafka {KAFKA_VERSION} ready at {broker.bootstrap} (log: {broker.log_path}); Ctrl-C stops it")
    try:
        broker.process.wait()
    except KeyboardInterrupt:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
