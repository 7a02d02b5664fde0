"""Kafka ACLs for a deployment: only the pipeline's principal writes internal topics (design §2).

The rules are plain data (``router_acls``, ``tenant_acls``: one AclCommand argument list each),
so the README prints them for production and the tests apply them to a SASL broker started by
``devenv.kafka.start_broker(users=...)``:

- the router principal: every operation on the pipeline's topics (``<prefix>llm.`` prefixed) and
  on Faust's own topics and consumer groups (``<app_id>`` prefixed); write and describe on
  every topic, because it answers on tenants' reply topics and checks that they exist;
- a tenant principal: write (and describe) on the requests and feedback topics only, read on
  its own reply topics (``<tenant>.`` prefixed) with consumer groups of the same prefix.

Nothing else is granted, and the broker runs with ``allow.everyone.if.no.acl.found=false``, so
a tenant's write to any internal topic is refused with TopicAuthorizationFailed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.topics import TopicNames
from devenv.kafka import BrokerError, _require


def router_acls(principal: str, names: TopicNames, app_id: str) -> list[list[str]]:
    user = f"User:{principal}"
    return [
        ["--allow-principal", user, "--operation", "All", "--topic", f"{names.prefix}llm.",
         "--topic", app_id, "--resource-pattern-type", "prefixed"],
        ["--allow-principal", user, "--operation", "All", "--group", app_id, "--resource-pattern-type", "prefixed"],
        ["--allow-principal", user, "--operation", "Write", "--operation", "Describe", "--topic", "*"],
    ]


def tenant_acls(principal: str, tenant: str, names: TopicNames, own_topic: bool = False) -> list[list[str]]:
    """``own_topic``: the tenant writes its own request topic (``llm.requests.v1.<tenant>``) instead of
    the shared one, so the tenant a request spends for cannot be forged (ROUTER_TENANT_TOPICS)."""
    user = f"User:{principal}"
    requests = names.tenant_requests(tenant) if own_topic else names.requests
    return [
        ["--allow-principal", user, "--operation", "Write", "--operation", "Describe",
         "--topic", requests, "--topic", names.feedback],
        ["--allow-principal", user, "--operation", "Read", "--operation", "Describe", "--topic", f"{tenant}.",
         "--resource-pattern-type", "prefixed"],
        ["--allow-principal", user, "--operation", "Read", "--group", f"{tenant}.", "--resource-pattern-type",
         "prefixed"],
    ]


def apply_acls(libs: Path, bootstrap: str, admin_password: str, rules: list[list[str]], work_dir: Path) -> None:
    """Add ``rules`` with Kafka's own AclCommand, authenticated as the super user ``admin``."""
    java = _require("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    config = work_dir / "admin.properties"
    config.write_text("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                      "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                      f'username="admin" password="{admin_password}";\n')
    config.chmod(0o600)
    for rule in rules:
        proc = subprocess.run([java, "-cp", f"{libs}/*", "kafka.admin.AclCommand", "--bootstrap-server", bootstrap,
                               "--command-config", str(config), "--add", "--force", *rule],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            msg = f"AclCommand failed for {' '.join(rule)}:\n  {(proc.stdout + proc.stderr).strip()[-800:]}"
            raise BrokerError(msg)


def main(argv: list[str] | None = None) -> int:
    """Print the kafka-acls.sh commands a production deployment needs."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m devenv.acls", description=main.__doc__)
    parser.add_argument("--router", default="router", help="the pipeline's principal")
    parser.add_argument("--app-id", default="llm-router")
    parser.add_argument("--topic-prefix", default="")
    parser.add_argument("--tenant", action="append", default=[], metavar="TENANT=PRINCIPAL")
    parser.add_argument("--shared", action="store_true",
                        help="tenants write the shared requests topic (no tenant isolation) instead of their own")
    args = parser.parse_args(argv)
    names = TopicNames(args.topic_prefix)
    rules = router_acls(args.router, names, args.app_id)
    for item in args.tenant:
        tenant, _, principal = item.partition("=")
        rules += tenant_acls(principal or tenant, tenant, names, own_topic=not args.shared)
    for rule in rules:
        print("kafka-acls.sh --bootstrap-server $BOOTSTRAP --command-config admin.properties --add "
              + " ".join(f"'{a}'" if "*" in a else a for a in rule))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
