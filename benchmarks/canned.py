"""A minimal HTTP/1.1 server that answers each path with prepared bytes: the client's own floor.

`python benchmarks/canned.py DIR PORT` serves `DIR/<name>.body` at `/<name>` with the status line and
headers of `DIR/<name>.json` ({"headers": {...}}) and a Content-Length, over kept-alive connections, one
thread per connection, the whole response written with one `sendall`. Nothing is computed per request, so
the time a client needs to receive and decode an answer from it is what the client itself costs
(benchmarks/realclients.py's "client floor" column: the same bytes and content coding cubeserver sent).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path


def load(folder: Path) -> dict[bytes, bytes]:
    """Path -> the complete response (status line, headers, body) for every prepared answer in `folder`."""
    out = {}
    for meta in folder.glob("*.json"):
        body = meta.with_suffix(".body").read_bytes()
        headers = json.loads(meta.read_text())["headers"]
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"content-length: {len(body)}\r\n\r\n"
        out[f"/{meta.stem}".encode()] = head.encode("latin-1") + body
    return out


def handle(conn: socket.socket, answers: dict[bytes, bytes]) -> None:
    missing = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
    with conn, conn.makefile("rb") as reader:
        while True:
            request = reader.readline()
            if not request:
                return
            while reader.readline() not in (b"\r\n", b"\n", b""):  # headers: not needed
                pass
            path = request.split(b" ")[1].split(b"?")[0] if b" " in request else b""
            conn.sendall(answers.get(path, missing))


def main(argv: list[str]) -> int:
    folder, port = Path(argv[1]), int(argv[2])
    answers = load(folder)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, answers), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
