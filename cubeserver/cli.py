"""`cubeserver serve | check-config | build-timeseries | openapi | mcp | reload`: the command line users script against.

Every problem of every collection is one `config error: collections.<id>.<key>: ...` line on
stderr (never a traceback) and exit status 2. `serve` refuses such a config unless
`--skip-broken` (or `skip_broken: true` in the config) is given: then it serves the healthy
collections and logs one line per broken one; with none left it still starts and logs an ERROR.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .config import ConfigError, load_config


log = logging.getLogger("cubeserver")
SKIP_ENV = "CUBESERVER_SKIP_BROKEN"  # passed on to `--workers` processes


def _load(path):
    """The config with broken collections left out and listed (`problems`); exit 2 on a bad server section."""
    try:
        return load_config(path, lenient=True)
    except ConfigError as e:
        _print_problems(e.problems)
        raise SystemExit(2) from None


def _print_problems(lines) -> None:
    for line in lines:
        print(f"config error: {line}", file=sys.stderr)


def _registry(config, skip_broken: bool = True):
    """Open every collection; broken ones are listed in `registry.problems` (never a traceback)."""
    from .registry import Registry

    return Registry(config, skip_broken=skip_broken)


def _refuse_or_skip(registry, skip: bool) -> None:
    """Refuse a config with broken collections (exit 2, one line per problem) unless told to skip them.

    Skipping logs one line per broken collection and one per served collection that lost its
    named locations; with no collection left the server still starts (landing page,
    conformance, processes) and says so at ERROR level.
    """
    if registry.problems and not skip:
        _print_problems(registry.problem_lines())
        print(f"config error: {len(registry.broken)} of {len(registry.broken) + len(list(registry))} collections "
              "cannot be served; fix them, or start with --skip-broken (or `skip_broken: true`) to serve the others",
              file=sys.stderr)
        raise SystemExit(2)
    for cid, lines in registry.problems.items():
        if cid in registry.broken:
            log.error("collections.%s: not served: %s", cid, " | ".join(_without_prefix(line, cid) for line in lines))
        else:
            for line in lines:
                log.warning("%s", line)
    served = len(list(registry))
    if registry.problems and served == 0:
        log.error("no collection could be opened: serving only the landing page, conformance, API and processes")
    elif served == 0:
        log.warning("the config has no collections: serving only the landing page, conformance, API and processes")
    elif registry.problems:
        log.warning("serving %d collections; skipped %d broken: %s", served, len(registry.broken),
                    ", ".join(registry.broken))


def _without_prefix(line: str, cid: str) -> str:
    prefix = f"collections.{cid}."
    return line[len(prefix):] if line.startswith(prefix) else line


def _announce(registry, host: str, port: int) -> None:
    """Print what is served and where to look (one line per collection, then the entry points)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    root = f"http://{shown}:{port}" if ":" not in shown else f"http://[{shown}]:{port}"
    collections = list(registry)
    print(f"cubeserver: {len(collections)} collections", flush=True)
    for c in collections:
        title = c.title  # the id when the config gives none, as /collections shows it
        print(f"  {c.id:<24} {c.kind:<9} {title}", flush=True)
    gridded = [c for c in collections if c.ds is not None]
    print(f"landing page: {root}/", flush=True)
    if gridded:
        print(f"map viewer:   {root}/collections/{gridded[0].id}/viewer", flush=True)
        print(f"WMS (QGIS):   {root}/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0", flush=True)
    print(f"API docs:     {root}/docs", flush=True)


# libraries that log every block read or unit definition at INFO (fsspec's "BlockCache fetching block 0" per
# ranged read, pint's "Redefining ..." per xclim import): their warnings and errors only, unless --log-level debug
CHATTY_LIBRARIES = ("fsspec", "s3fs", "gcsfs", "adlfs", "aiobotocore", "botocore", "urllib3", "pint", "numcodecs")


def quiet_libraries(level: str) -> None:
    """Raise the chatty libraries' loggers to WARNING (pint: ERROR) unless `level` is DEBUG."""
    if level == "DEBUG":
        return
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR if name == "pint" else logging.WARNING)


def cmd_serve(args) -> int:
    import uvicorn

    from .memory import limit_arenas

    limit_arenas(2)  # freed chunk buffers go back to the OS instead of piling up in per-thread arenas
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # the same for --workers > 1 processes
    level = args.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_libraries(level)
    if args.config:
        os.environ["CUBESERVER_CONFIG"] = os.path.abspath(args.config)
    config = _load(args.config)
    skip = bool(args.skip_broken or config.skip_broken)
    registry = _registry(config)
    _refuse_or_skip(registry, skip)
    _announce(registry, args.host, args.port)
    if args.workers > 1:
        # each uvicorn worker process builds its own app from the same config
        registry.close()
        os.environ[SKIP_ENV] = "1" if skip else ""
        uvicorn.run("cubeserver.cli:app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level.lower(), access_log=False, **_http_options(config))
        return 0
    from .app import create_app

    app = create_app(config, registry)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False,
                **_http_options(config))
    return 0


def _http_options(config) -> dict:
    """Let request lines a little over `limits.max_url_bytes` reach the app, which answers 414 for them;
    only far larger ones are cut by the HTTP parser (h11) itself. h11, not httptools even when installed:
    httptools' URL parser stops at 65,535 bytes with a plain-text 400, before the app can say 414."""
    return {"http": "h11", "h11_max_incomplete_event_size": max(4 * config.limits.max_url_bytes, 1024 * 1024)}


def app_from_env():
    """The app of one `--workers` process: the parent already checked (and logged) the config."""
    from .app import create_app

    skip = bool(os.environ.get(SKIP_ENV))
    config = load_config(None, lenient=skip)
    return create_app(config, _registry(config, skip_broken=skip or config.skip_broken))


def cmd_check(args) -> int:
    """Print one JSON line per healthy collection (stdout) and one line per problem (stderr); 2 if any."""
    config = _load(args.config)
    registry = _registry(config)
    for c in registry:
        summary = c.summary()
        if c.extra.get("timeseries") is not None:
            summary["timeseries"] = c.extra["timeseries"].describe()
        print(json.dumps(summary, default=str))
    results_problem = _results_problem(config)
    if results_problem:
        print(results_problem, file=sys.stderr)
    unavailable = list(registry.unavailable.values())  # remote stores that did not answer (served as 503)
    _print_problems(unavailable)
    results_problem = results_problem or (f"{len(unavailable)} remote collection(s) unavailable" if unavailable else None)
    if registry.problems:
        _print_problems(registry.problem_lines())
        total = len(set(registry.problems) | {c.id for c in registry} | set(registry.unavailable))
        print(f"{len(registry.problems)} of {total} collections broken, "
              f"{sum(map(len, registry.problems.values()))} problems"
              + (f", {len(unavailable)} unavailable" if unavailable else ""), file=sys.stderr)
        return 2
    if results_problem:
        return 2
    print(f"ok: {len(config.collections)} collections", file=sys.stderr)
    return 0


def _results_problem(config) -> str | None:
    """A line saying why the object store of `jobs.results` cannot be used, or None (also for local folders)."""
    from .processes.storage import ResultStorage

    setting = config.jobs.results_setting
    storage = ResultStorage(setting, config.jobs.results_options, config.state_path, config.resolve)
    if not storage.remote:
        return None
    try:
        storage.check()
    except FileNotFoundError:
        return f"jobs.results: the bucket of {setting} does not exist (create it first)"
    except PermissionError:
        return (f"jobs.results: access to {setting} denied; check the credentials (AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or jobs.results_options)")
    except Exception as e:  # noqa: BLE001 - any other failure: its kind, never its text (may hold keys)
        return f"jobs.results: {setting} cannot be reached ({type(e).__name__}); check endpoint_url and the network"
    print(f"job results: {setting}", file=sys.stderr)
    return None


def cmd_build_timeseries(args) -> int:
    """Build (or rebuild) the time-series copy of one collection (`timeseries:` in its config); exit 2 on a problem."""
    from .timeseries.build import BuildError, build
    from .timeseries.layout import copy_path

    config = _load(args.config)
    cc = config.collections.get(args.collection)
    if cc is None and config.problems.get(args.collection):
        _print_problems(config.problems[args.collection])
        return 2
    if cc is None:
        known = ", ".join(config.collections) or "none"
        print(f"config error: no collection {args.collection!r} (collections: {known})", file=sys.stderr)
        return 2
    if cc.timeseries is None:
        print(f"config error: collections.{args.collection}.timeseries: not set; add `timeseries: true` (or "
              "`timeseries: {path: ..., chunks: {...}}`) so the server uses the copy", file=sys.stderr)
        return 2
    from .registry import open_collection
    from .sources.diagnose import open_problem

    source = config.resolve(cc.path)
    try:
        c = open_collection(args.collection, cc, source, config)
    except Exception as e:  # noqa: BLE001 - the same one-line report as check-config
        _print_problems([open_problem(args.collection, cc.format, source, cc.path, e)])
        return 2
    if c.ds is None or c.axes.t is None:
        print(f"config error: collections.{args.collection}.timeseries: the collection has no time axis",
              file=sys.stderr)
        return 2
    try:
        m = build(c, copy_path(args.collection, cc.timeseries, config), source, cc.timeseries.chunks,
                  cc.timeseries.chunk_bytes, log=lambda line: print(line, file=sys.stderr))
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        c.ds.close()
    print(json.dumps({"collection": args.collection, "path": str(copy_path(args.collection, cc.timeseries, config)),
                      "chunks": {n: v["chunks"] for n, v in m["variables"].items()},
                      "bytes": m["bytes"], "seconds": m["seconds"]}))
    return 0


def cmd_openapi(args) -> int:
    from .app import create_app

    config = _load(args.config)
    registry = _registry(config)
    if registry.problems:
        _print_problems(registry.problem_lines())
        return 2
    print(json.dumps(create_app(config, registry).openapi(), indent=2))
    return 0


def cmd_mcp(args) -> int:
    """The MCP server over stdio (cubeserver.mcp.stdio): stdout carries only MCP messages, logs go to stderr."""
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_libraries(args.log_level.upper())
    if args.config:
        os.environ["CUBESERVER_CONFIG"] = os.path.abspath(args.config)
    config = _load(args.config)
    from .mcp.stdio import refuse_bad_token, run_stdio

    refused = refuse_bad_token(config)
    if refused is not None:
        return refused
    registry = _registry(config)
    _refuse_or_skip(registry, bool(args.skip_broken or config.skip_broken))
    return run_stdio(config, registry)


def cmd_reload(args) -> int:
    """Ask every server process of this config (same state_dir) to reload collections: bumps the version file."""
    from .live.refresher import request_reload

    config = _load(args.config)
    ids = [c.strip() for c in args.collection.split(",") if c.strip()] if args.collection else None
    unknown = [c for c in ids or () if c not in config.collections and c not in config.problems]
    if unknown:
        print(f"config error: no collection {unknown[0]!r} (collections: {', '.join(config.collections) or 'none'})",
              file=sys.stderr)
        return 2
    seq = request_reload(config, ids)
    print(json.dumps({"version": seq, "collections": ids or "all", "state_dir": str(config.state_path)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="cubeserver", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the configured collections over HTTP")
    s.add_argument("--config", default=None, help="YAML config (default: $CUBESERVER_CONFIG or the bundled datasets)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--skip-broken", action="store_true",
                   help="serve the healthy collections when some cannot be opened (one log line per broken one); "
                        "default: refuse to start")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(func=cmd_serve)
    c = sub.add_parser("check-config", help="validate a config and print what each collection resolved to")
    c.add_argument("config", nargs="?", default=None)
    c.set_defaults(func=cmd_check)
    b = sub.add_parser("build-timeseries", help="build the time-series copy of a collection (its `timeseries:` key)")
    b.add_argument("--config", default=None)
    b.add_argument("collection", help="collection id")
    b.set_defaults(func=cmd_build_timeseries)
    o = sub.add_parser("openapi", help="print the OpenAPI document")
    o.add_argument("--config", default=None)
    o.set_defaults(func=cmd_openapi)
    m = sub.add_parser("mcp", help="serve the Model Context Protocol over stdio (for desktop AI agents); "
                                   "the credential is read from $CUBESERVER_MCP_TOKEN")
    m.add_argument("--config", default=None, help="YAML config (default: $CUBESERVER_CONFIG or the bundled datasets)")
    m.add_argument("--skip-broken", action="store_true", help="serve the healthy collections when some cannot be opened")
    m.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    m.set_defaults(func=cmd_mcp)
    r = sub.add_parser("reload", help="make every running server of this config reload collections (within live.poll_s)")
    r.add_argument("--config", default=None)
    r.add_argument("--collection", default=None, help="comma-separated ids (default: all)")
    r.set_defaults(func=cmd_reload)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
