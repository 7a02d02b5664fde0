"""The uvloop shim for aiokafka: a write to a connection the broker closed must surface as the
connection error aiokafka recovers from, not as a RuntimeError that ends its background tasks."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from aiokafka import conn as aiokafka_conn
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest

from streams import kafka_compat


async def _send_on_closed_connection(closed: list[object] | None = None) -> BaseException:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = aiokafka_conn.AIOKafkaConnection(
        "127.0.0.1", port, on_close=lambda _conn, reason: (closed if closed is not None else []).append(reason))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.transport.close()
    await asyncio.sleep(0)  # let the loop finish closing the handle
    connection._reader, connection._writer = reader, writer
    connection._versions = {MetadataRequest.API_KEY: (0, 5)}
    connection._read_task = asyncio.ensure_future(asyncio.sleep(60))  # stands in for its read loop
    try:
        connection.send(MetadataRequest([]))
    except BaseException as exc:  # noqa: BLE001 - the type is the assertion
        return exc
    finally:
        server.close()
    raise AssertionError("send on a closed transport did not raise")


@pytest.fixture()
def fresh_aiokafka_conn():
    original = aiokafka_conn.AIOKafkaConnection.send
    yield
    aiokafka_conn.AIOKafkaConnection.send = original  # undo the patch for the other tests


def test_uvloop_closed_transport_raises_runtime_error_without_the_patch(fresh_aiokafka_conn):
    exc = uvloop.run(_send_on_closed_connection())
    assert isinstance(exc, RuntimeError)  # the aiokafka#1038 behaviour the shim exists for


def test_patched_send_raises_the_connection_error_aiokafka_handles(fresh_aiokafka_conn):
    kafka_compat.patch_closed_transport_send()
    kafka_compat.patch_closed_transport_send()  # idempotent
    closed: list[object] = []
    exc = uvloop.run(_send_on_closed_connection(closed))
    assert isinstance(exc, KafkaConnectionError)
    assert "broken" in str(exc)
    assert closed == [aiokafka_conn.CloseReason.CONNECTION_BROKEN]  # the client drops it and reconnects
