"""`cubeserver serve | check-config | openapi`: the command line users script against."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .config import ConfigError, load_config


def _load(path):
    try:
        return load_config(path)
    except ConfigError as e:
        for line in e.problems:
            print(f"config error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def _registry(config):
    from .registry import Registry

    try:
        return Registry(config)
    except (ValueError, OSError) as e:
        msg = str(e).replace(str(config.root), ".")
        print(f"config error: {msg}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args) -> int:
    import uvicorn

    from .memory import limit_arenas

    limit_arenas(2)  # freed chunk buffers go back to the OS instead of piling up in per-thread arenas
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # the same for --workers > 1 processes
    level = args.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.config:
        os.environ["CUBESERVER_CONFIG"] = os.path.abspath(args.config)
    config = _load(args.config)
    if args.workers > 1:
        # each uvicorn worker process builds its own app from the same config
        uvicorn.run("cubeserver.cli:app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level.lower(), access_log=False)
        return 0
    from .app import create_app

    app = create_app(config, _registry(config))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False)
    return 0


def app_from_env():
    from .app import create_app

    return create_app(load_config(None))


def cmd_check(args) -> int:
    config = _load(args.config)
    registry = _registry(config)
    for c in registry:
        print(json.dumps(c.summary(), default=str))
    print(f"ok: {len(config.collections)} collections", file=sys.stderr)
    return 0


def cmd_openapi(args) -> int:
    from .app import create_app

    config = _load(args.config)
    print(json.dumps(create_app(config, _registry(config)).openapi(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="cubeserver", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the configured collections over HTTP")
    s.add_argument("--config", default=None, help="YAML config (default: $CUBESERVER_CONFIG or the bundled datasets)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(func=cmd_serve)
    c = sub.add_parser("check-config", help="validate a config and print what each collection resolved to")
    c.add_argument("config", nargs="?", default=None)
    c.set_defaults(func=cmd_check)
    o = sub.add_parser("openapi", help="print the OpenAPI document")
    o.add_argument("--config", default=None)
    o.set_defaults(func=cmd_openapi)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
