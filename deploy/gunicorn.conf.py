"""gunicorn settings of the cubeserver image: uvicorn workers serving `cubeserver.cli:app_from_env()`.

Every worker builds its own app from $CUBESERVER_CONFIG (default: the bundled datasets). The
config is checked once in the master before any worker starts, so a bad config is one
`config error: ...` line per problem and exit status 2, as with `cubeserver serve`.
Environment: CUBESERVER_PORT (8000), WEB_CONCURRENCY (workers, gunicorn's own variable),
CUBESERVER_LOG_LEVEL (info), CUBESERVER_ROOT_PATH (the sub-path a proxy serves the API under
when it strips it and sends no X-Forwarded-Prefix), FORWARDED_ALLOW_IPS (proxies whose
X-Forwarded-Proto/-For are believed; gunicorn's own variable, default 127.0.0.1).
Any other gunicorn option: GUNICORN_CMD_ARGS.
"""

import logging
import os
import sys

from uvicorn_worker import UvicornWorker

bind = [f"0.0.0.0:{os.environ.get('CUBESERVER_PORT', '8000')}"]
loglevel = os.environ.get("CUBESERVER_LOG_LEVEL", "info").lower()
timeout = 120  # a worker that stays silent this long (a stuck request) is restarted
graceful_timeout = 30
keepalive = 5
accesslog = None  # cubeserver's own access log (ops.access_log) logs requests
errorlog = "-"

logging.basicConfig(level=loglevel.upper(), stream=sys.stderr,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class CubeserverWorker(UvicornWorker):
    """uvicorn worker with cubeserver's HTTP options: the root path, and request lines a little over
    `limits.max_url_bytes` reach the app (a 414) instead of being cut by the HTTP parser (h11: httptools
    cuts URLs over 65,535 bytes with a plain 400); uvloop as the event loop (installed with cubeserver)."""

    CONFIG_KWARGS = {"loop": "auto", "http": "h11", "root_path": os.environ.get("CUBESERVER_ROOT_PATH", "").rstrip("/"),
                     "h11_max_incomplete_event_size": 4 * 1024 * 1024, "access_log": False}


worker_class = CubeserverWorker


def on_starting(server):
    """Check the config (YAML and settings, not the data) before any worker starts: exit 2 on problems."""
    from cubeserver.config import ConfigError, load_config

    skip = bool(os.environ.get("CUBESERVER_SKIP_BROKEN"))
    try:
        config = load_config(None, lenient=skip)
    except ConfigError as e:
        for line in e.problems:
            print(f"config error: {line}", file=sys.stderr)
        print("config error: fix the config, or set CUBESERVER_SKIP_BROKEN=1 to serve the healthy collections",
              file=sys.stderr)
        sys.exit(2)
    where = os.environ.get("CUBESERVER_CONFIG") or "the bundled datasets"
    logging.getLogger("cubeserver").info("config %s: %d collections", where, len(config.collections))


def post_fork(server, worker):
    from cubeserver.memory import limit_arenas

    limit_arenas(2)
