"""A loopback HTTP server that serves a directory like the SDSS Science Archive Server.

It honours ``Range`` requests (206 with Content-Range) and can inject faults per path:
``"503"`` (Service Unavailable), ``"truncate"`` (announce the full length, send half,
drop the connection), ``"429"`` (Too Many Requests with ``Retry-After: 1``), ``"html"``
(status 200 with an HTML error page instead of the file), ``"reset"`` (close the
connection without answering) and ``"slow"`` (answer after 3 s). Requests are counted
per path.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class SASServer:
    """Start with ``with SASServer(root) as server:``; ``server.url`` is the base URL."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.requests: Counter = Counter()
        self.ranges: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                rel = self.path.lstrip("/").split("?")[0]
                with server._lock:
                    server.requests[rel] += 1
                    fault = server.faults[rel].pop(0) if server.faults[rel] else None
                    if "Range" in self.headers:
                        server.ranges.append((rel, self.headers["Range"]))
                if fault == "503":
                    return self._send(503, b"Service Unavailable")
                if fault == "429":
                    return self._send(429, b"Too Many Requests", {"Retry-After": "1"})
                if fault == "html":
                    return self._send(200, b"<html><body><h1>Server busy</h1></body></html>")
                if fault == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "slow":
                    time.sleep(3)
                path = server.root / rel
                if not path.is_file():
                    return self._send(404, b"Not Found")
                data = path.read_bytes()
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(data):
                        return self._send(416, b"")
                    body = data[start:]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    body = data
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/x-bzip2")
                self.end_headers()
                if fault == "truncate":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

            def _send(self, code: int, body: bytes, headers: dict | None = None):
                self.send_response(code)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> SASServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
