"""``python -m simulator --port 8700 [--config behaviour.json]``"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
from aiohttp import web

from simulator.server import SimState, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="LLM provider simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--config", type=Path, help="JSON behaviour file: {default: {...}, models: {...}}")
    args = parser.parse_args(argv)
    state = SimState()
    if args.config:
        try:
            state.configure(orjson.loads(args.config.read_bytes()))
        except (OSError, orjson.JSONDecodeError, ValueError) as exc:
            print(f"simulator: bad --config {args.config}: {exc}", file=sys.stderr)
            return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(create_app(state), host=args.host, port=args.port, access_log=None, print=None,
                shutdown_timeout=1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
