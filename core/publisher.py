"""The one owner of the wire: which messages the stages' facts become (pure: no Kafka).

Topics, keys (every message is keyed by its request id), encodings (the job event, the
response, DLQ records) and the outcome envelope (``{"t": table, "r": row}`` packed many rows to a
message) are decided here and nowhere else. What cannot fit a Kafka message never leaves as
it is: a job that grew too large finishes its request with ``payload_too_large`` and leaves a
bounded copy on the internal DLQ; a response too large becomes that error; DLQ records keep a
bounded head of the payload. Every request still ends in exactly one response and one
``requests`` row.

``observe`` (the worker's metrics) sees each outcome row once, as a dict, before it is encoded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from core import outcomes
from core.facts import (
    Answered,
    BreakerChanged,
    Classified,
    DriftWindowClosed,
    Escalated,
    Fact,
    Failed,
    Hop,
    Invoked,
    Judged,
    Refused,
    Routed,
    RowRefused,
    SetAside,
)
from core.fields import MAX_ID_LEN
from core.messages import Incoming, Out, packed
from core.payload import cap_problems, dumps_within, message_budget, payload_copy
from core.responses import error_response, invalid_request_response, ok_response
from core.topics import TopicNames

RowObserver = Callable[[str, dict[str, Any]], None]


class Publisher:
    def __init__(self, names: TopicNames, budget: int | None = None) -> None:
        self.names = names
        self.budget = message_budget() if budget is None else budget
        self.observe: RowObserver | None = None

    def publish(self, facts: Sequence[Fact]) -> list[Out]:
        """The messages ``facts`` cause, outcome rows packed into as few messages as fit (last)."""
        return packed(self.messages(facts), self.names.outcomes, self.budget)

    def messages(self, facts: Sequence[Fact]) -> list[Out]:
        """The messages ``facts`` cause, in order, one outcome message per row."""
        out: list[Out] = []
        for f in facts:
            _BY_KIND[type(f)](self, f, out)
        return out

    # --- one method per kind of fact ----------------------------------------------------------

    def _classified(self, f: Classified, out: list[Out]) -> None:
        self._job("classified", f.job, f.at_ms, out)
        if f.keep_text:
            self._row(f.job.request_id, "request_texts", outcomes.text_row(f.job, f.at_ms), out)

    def _routed(self, f: Routed, out: list[Out]) -> None:
        self._job("routed", f.job, f.at_ms, out)
        self._row(f.job.request_id, "decisions", outcomes.decision_row(f.job, f.decision, f.target_tier, f.at_ms), out)

    def _invoked(self, f: Invoked, out: list[Out]) -> None:
        self._job("invoked", f.job, f.at_ms, out)
        for a in f.attempts:
            self._row(f.job.request_id, "attempts", outcomes.attempt_row(f.job, a), out)

    def _judged(self, f: Judged, out: list[Out]) -> None:
        row = outcomes.verdict_row(f.job, f.answer, f.verification, f.prior, f.round, f.at_ms)
        self._row(f.job.request_id, "verdicts", row, out)

    def _escalated(self, f: Escalated, out: list[Out]) -> None:
        self._job("escalations", f.job, f.at_ms, out)
        row = outcomes.escalation_row(f.job, f.verification, f.to_tier, f.round, f.at_ms)
        self._row(f.job.request_id, "escalations", row, out)

    def _drift(self, f: DriftWindowClosed, out: list[Out]) -> None:
        self._row(f"drift:{f.row['window_start']}", "classifier_drift", f.row, out)

    def _row_refused(self, f: RowRefused, out: list[Out]) -> None:
        """The outcomes-DLQ record of a row the sink could not write (its ``dead_letters`` row is
        written by the sink itself, straight to ClickHouse)."""
        body = dumps_within({"error": {"code": "row_refused", "message": f.reason[:1000]}, "table": f.table,
                             "source": {"topic": f.source[0], "partition": f.source[1], "offset": f.source[2]},
                             "row": f.row}, self.budget, ["row"]) or b"{}"
        out.append(Out(self.names.outcomes_dlq, (f.request_id or f.table).encode()[:400], body))

    # --- the pieces ----------------------------------------------------------------------

    def _row(self, key: str, table: str, row: dict[str, Any], out: list[Out]) -> None:
        if self.observe is not None:
            self.observe(table, row)
        out.append(Out(self.names.outcomes, key.encode(), outcomes.encode(table, row)))

    def _job(self, hop: Hop, job: Any, at_ms: int, out: list[Out]) -> None:
        """The job on to ``hop``'s topic, or, when it no longer fits a Kafka message, its request
        finished with ``payload_too_large`` and a bounded copy on the internal DLQ."""
        topic = getattr(self.names, hop)
        raw = job.encode()
        if len(raw) <= self.budget:
            out.append(Out(topic, job.request_id.encode(), raw))
            return
        message = f"the request grew to {len(raw):,} bytes on its way to {topic}, over the {self.budget:,}-byte " \
                  "message limit"
        self._failed(Failed(job, "payload_too_large", message, at_ms), out)
        where = Incoming(raw, at_ms, topic, -1, 0)  # never written: its bounded copy goes to the DLQ instead
        self._set_aside(SetAside(where, "publish", "payload_too_large", message, at_ms, job.request_id), out)

    def _reply_topic(self, f: Answered | Failed) -> str:
        return f.job.request.reply_topic or self.names.responses

    def _answered(self, f: Answered, out: list[Out]) -> None:
        body = orjson.dumps(ok_response(f.job, f.answer, f.at_ms, f.best_effort))
        if len(body) > self.budget:
            message = f"the answer's response is {len(body):,} bytes, over the {self.budget:,}-byte message limit"
            self._failed(Failed(f.job, "payload_too_large", message, f.at_ms), out)
            return
        out.append(Out(self._reply_topic(f), f.job.request_id.encode(), body))
        self._row(f.job.request_id, "requests",
                  outcomes.request_row(f.job, "ok", "", f.answer, f.at_ms, f.best_effort), out)

    def _failed(self, f: Failed, out: list[Out]) -> None:
        response = error_response(f.job, f.code, f.message, f.at_ms)
        body = dumps_within(response, self.budget, ["metadata", "escalation_reasons"])
        if body is not None:  # None only for a request forged past ingress; its row still records it
            out.append(Out(self._reply_topic(f), f.job.request_id.encode(), body))
        self._row(f.job.request_id, "requests", outcomes.request_row(f.job, "error", f.code, None, f.at_ms), out)

    def _refused(self, f: Refused, out: list[Out]) -> None:
        """Error response (unless ``answer`` is False), DLQ copy and row for a refused request;
        none of them can be too large whatever the publisher of the request sent."""
        msg = f.msg
        response = invalid_request_response(f.payload, cap_problems(f.problems), f.at_ms, f.code)
        rid = response["request_id"]
        if not rid or len(rid) > MAX_ID_LEN:
            rid = f"invalid:{msg.topic}:{msg.partition}:{msg.offset}"
        tenant = (response["tenant"] or "")[:MAX_ID_LEN]
        response["request_id"] = rid
        body = dumps_within(response, self.budget, ["metadata", "tenant"])
        if f.answer and body is not None:
            out.append(Out(f.reply_to or self.names.responses, rid.encode(), body))
        dlq = {"error": response["error"], "source": {"topic": msg.topic, "partition": msg.partition,
                                                       "offset": msg.offset}, **payload_copy(msg.value or b"")}
        out.append(Out(self.names.requests_dlq, rid.encode(), orjson.dumps(dlq)))
        self._row(rid, "requests", outcomes.invalid_request_row(rid, tenant, msg.timestamp_ms, f.at_ms, f.code), out)

    def _set_aside(self, f: SetAside, out: list[Out]) -> None:
        """A bounded copy with the reason on the internal DLQ, and a ``dead_letters`` row."""
        msg = f.msg
        record = {"error": {"code": f.code, "message": f.reason}, "stage": f.stage,
                  "source": {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset},
                  **payload_copy(msg.value or b"")}
        key = f.request_id or f"{msg.topic}:{msg.partition}:{msg.offset}"
        out.append(Out(self.names.internal_dlq, key.encode(), orjson.dumps(record)))
        row = outcomes.dead_letter_row(f.stage, msg.topic, max(msg.partition, 0), msg.offset, f.request_id,
                                       f"{f.code}: {f.reason}", self.names.internal_dlq, f.at_ms)
        self._row(key, "dead_letters", row, out)

    def _breaker(self, f: BreakerChanged, out: list[Out]) -> None:
        """A breaker's state change: an event on the control topic and a ``control_events`` row."""
        t = f.transition
        row = {"ts": f.at_ms, "kind": "breaker", "model": t.model, "old_state": t.old, "new_state": t.new,
               "reason": t.reason, "worker": f.worker, "version": f.at_ms}
        key = f"breaker:{t.model}"
        out.append(Out(self.names.control, key.encode(), orjson.dumps(row)))
        self._row(key, "control_events", row, out)


_BY_KIND: dict[type, Callable[[Publisher, Any, list[Out]], None]] = {
    Classified: Publisher._classified, Routed: Publisher._routed, Invoked: Publisher._invoked,
    Judged: Publisher._judged, Escalated: Publisher._escalated, Answered: Publisher._answered,
    Failed: Publisher._failed, Refused: Publisher._refused, SetAside: Publisher._set_aside,
    BreakerChanged: Publisher._breaker, DriftWindowClosed: Publisher._drift, RowRefused: Publisher._row_refused,
}
