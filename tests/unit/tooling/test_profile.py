"""The bench's profile reader: py-spy raw stacks filed by stage and layer."""

from __future__ import annotations

from tooling.profile import BACKGROUND, parse_raw, table

RAW = """\
_run_code (<frozen runpy>:88);Worker.execute_from_commandline (mode/worker.py:264);register.<locals>.one (agents/invoke.py:32);invoke (core/stages.py:136);AsyncClient.post (httpx/_client.py:1859) 30
_run_code (<frozen runpy>:88);Worker.execute_from_commandline (mode/worker.py:264);register.<locals>.one (agents/invoke.py:32);invoke (core/stages.py:136) 10
Worker.execute_from_commandline (mode/worker.py:264);Sender._send_produce_req (aiokafka/producer/sender.py:288);StreamWriter.write (asyncio/streams.py:343) 40
Thread._bootstrap (threading.py:1002);WorkerThread.run (mode/threads.py:62);Stream._c_aiter (faust/streams.py:1180) 15
Worker.execute_from_commandline (mode/worker.py:264);each_job (agents/__init__.py:70);route (core/stages.py:120) 5
not a sample line
"""


def test_samples_are_filed_by_stage_and_layer() -> None:
    counts = parse_raw(RAW)
    assert counts[("invoke", "http client")] == 30
    assert counts[("invoke", "ours (core)")] == 10
    assert counts[(BACKGROUND, "asyncio")] == 40
    assert counts[("Faust consumer service", "faust")] == 15
    assert counts[("agents (shared)", "ours (core)")] == 5
    assert sum(counts.values()) == 100  # the malformed line is skipped


def test_table_gives_each_stage_its_share() -> None:
    lines = table(parse_raw(RAW))
    invoke = next(line for line in lines if line.startswith("invoke"))
    assert "40.0%" in invoke and "http client 30.0%" in invoke and "ours (core) 10.0%" in invoke
    assert any(line.startswith(BACKGROUND) and "40.0%" in line for line in lines)
