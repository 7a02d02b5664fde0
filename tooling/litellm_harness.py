"""Drive LiteLLM's Router against our provider simulator (runs in its own venv: see tooling/peer_bench.py).

    python litellm_harness.py --api-base http://127.0.0.1:8700/openai/v1 --requests 4000 --concurrency 200

Prints one JSON line: requests, errors, seconds, rps, p50_ms, p99_ms, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    from litellm import Router

    router = Router(model_list=[{"model_name": "cheap", "litellm_params": {
        "model": "openai/gpt-4o-mini", "api_base": args.api_base, "api_key": "sim"}}], num_retries=0)
    gate = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        async with gate:
            t0 = time.perf_counter()
            try:
                await router.acompletion(model="cheap", messages=[{"role": "user", "content": f"Say hi #{i}"}],
                                         max_tokens=64)
                latencies.append((time.perf_counter() - t0) * 1000)
            except Exception:  # noqa: BLE001 - counted, reported
                errors += 1

    await asyncio.gather(*(one(i) for i in range(200)))  # warm up
    latencies.clear()
    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(args.requests)))
    seconds = time.perf_counter() - t0
    latencies.sort()
    print(json.dumps({
        "requests": args.requests, "errors": errors, "seconds": round(seconds, 2),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1) if latencies else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    asyncio.run(main())
