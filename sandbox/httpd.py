"""A small threaded HTTP/1.1 server: Request/Response values, chunked streaming, resets and stalls."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    base_url: str

    @cached_property
    def query(self) -> dict[str, str]:
        """Query parameters, last value wins (parsed once: export pages ask per ticket)."""
        return {k: v[-1] for k, v in parse_qs(self.raw_query, keep_blank_values=True).items()}

    def header(self, name: str, default: str = "") -> str:
        """Header value by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError if it is not)."""
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    """A response; `body` may be an iterator of chunks (sent chunked); `action` resets or stalls."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(
        status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


App = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK
    # stall every keep-alive response by ~40 ms
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        req = Request(
            method=self.command,
            path=split.path,
            raw_query=split.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}:{port}",
        )
        try:
            resp = self.server.app(req)
        except Exception:
            log.exception("sandbox handler failed for %s %s", self.command, split.path)
            resp = json_response(500, {"error": "InternalSandboxError"})
        try:
            self._send(resp)
        except (BrokenPipeError, ConnectionResetError):  # the client went away mid-response
            log.debug("client disconnected during %s %s", self.command, split.path)
            self.close_connection = True

    def _send(self, resp: Response) -> None:
        if resp.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if resp.action == "timeout":
            self.server.stopping.wait(float(resp.headers.get("X-Sandbox-Stall", "30")))
            self.close_connection = True
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if isinstance(resp.body, bytes):
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in resp.body:
            if chunk:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.stopping = threading.Event()


class HttpServer:
    """Serve an App on 127.0.0.1 in a background thread."""

    def __init__(self, app: App, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), app)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def chunks(lines: Iterator[bytes], size: int = 65536) -> Iterator[bytes]:
    """Group small byte strings into chunks of about `size` bytes."""
    buf: list[bytes] = []
    total = 0
    for line in lines:
        buf.append(line)
        total += len(line)
        if total >= size:
            yield b"".join(buf)
            buf, total = [], 0
    if buf:
        yield b"".join(buf)
