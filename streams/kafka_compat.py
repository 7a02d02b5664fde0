"""One fix to aiokafka 0.14 the worker needs because it runs on uvloop.

Writing to a connection the broker has closed raises ``RuntimeError`` under uvloop (``OSError``
under asyncio), and ``AIOKafkaConnection.send`` only turns ``OSError`` into a connection error
(aio-libs/aiokafka#1038). After a broker restart the uncaught ``RuntimeError`` ended the client's
metadata task for good: the consumer kept its old assignment but never fetched again, so the
pipeline stopped answering with no error in its log (the chaos suite's broker scenario on CI).
``patch_closed_transport_send`` makes that write fail the way a broken socket does, so aiokafka
reconnects as it does under asyncio. Applied once by the worker before it starts.
"""

from __future__ import annotations

from typing import Any

from aiokafka import conn as _conn
from aiokafka.errors import KafkaConnectionError

_PATCHED = "_router_closed_transport_patch"


def patch_closed_transport_send() -> None:
    """Wrap ``AIOKafkaConnection.send`` (idempotent)."""
    original = _conn.AIOKafkaConnection.send
    if getattr(original, _PATCHED, False):
        return

    def send(self: Any, request: Any, expect_response: bool = True) -> Any:
        writer = self._writer
        if writer is not None and writer.transport.is_closing():
            self.close(reason=_conn.CloseReason.CONNECTION_BROKEN)
            raise KafkaConnectionError(f"Connection at {self._host}:{self._port} broken: transport closed")
        try:
            return original(self, request, expect_response)
        except RuntimeError as err:  # uvloop: "unable to perform operation on <TCPTransport closed=True>"
            self.close(reason=_conn.CloseReason.CONNECTION_BROKEN)
            raise KafkaConnectionError(f"Connection at {self._host}:{self._port} broken: {err}") from err

    setattr(send, _PATCHED, True)
    _conn.AIOKafkaConnection.send = send
