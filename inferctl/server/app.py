"""The HTTP server behind `inferctl serve`: routing, limits, errors, access log, shutdown.

The stack is the standard library's `http.server.ThreadingHTTPServer` with one
thread per connection, so a slow client does not hold up other requests. Writes are
serialised anyway, by an in-process lock in front of the ledger's file lock. Each
connection carries one request (`Connection: close`), so a shutdown does not wait
for an idle keep-alive client.

Every response body is JSON or empty. Errors are `{"error": "..."}`, and on the chain
query routes they also carry the gRPC-gateway fields `code`, `message` and `details`,
which Cosmos clients read from the real chain's errors.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from inferctl.errors import (
    Conflict,
    InferctlError,
    InvalidInput,
    LedgerLocked,
    NoExecutor,
    NotFound,
)

log = logging.getLogger("inferctl.server")
access_log = logging.getLogger("inferctl.server.access")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Seconds a connection may stay silent while its request is read. A client that
# stalls longer is dropped, so it cannot hold a shutdown open for long.
SOCKET_TIMEOUT = 30.0
MAX_CHUNK_LINE = 1024
# A body over --max-body-bytes but at most this large is read and dropped before the
# 413 is sent, because a client that is still sending would otherwise see a reset.
DRAIN_LIMIT = 16 * 1024 * 1024

# gRPC status codes that the gRPC gateway puts in its error bodies.
GRPC_CODES = {400: 3, 404: 5, 405: 12, 408: 4, 409: 6, 413: 8, 500: 13, 503: 14}
# Access-log status of a request whose client left before the response was written.
CLIENT_CLOSED = 499


class HttpError(Exception):
    """An error that the server returns as `status` with {"error": message, **extra}."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class ServerConfig:
    """Settings every handler reads: the ledger, the acting participant, the limits."""

    home: str
    participant: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    lock_timeout: float = 10.0


@dataclass
class Response:
    """A handler's result: status, JSON value (or no body) and extra headers."""

    status: int = 200
    body: Any = None
    empty: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """One parsed request as the route handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    raw_body: bytes
    config: ServerConfig
    write_lock: threading.Lock

    def json(self) -> Any:
        """Parse the body as strict JSON; raise HttpError 400 when it is not."""
        from inferctl.jsonio import loads_strict

        if not self.raw_body.strip():
            raise HttpError(400, "request body is empty; expected a JSON document")
        try:
            return loads_strict(self.raw_body, "request body")
        except InvalidInput as exc:
            raise HttpError(400, str(exc)) from None

    def arg(self, name: str) -> str | None:
        """Return the last value of query parameter `name`, or None."""
        values = self.query.get(name)
        return values[-1] if values else None


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    grpc_errors: bool = False


def route(method: str, template: str, handler: Handler, *, grpc_errors: bool = False
          ) -> Route:
    """Build a route; `{name}` in the template matches one path segment."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
                    for index, part in enumerate(parts))
    return Route(method, re.compile(f"^{regex}$"), handler, grpc_errors)


def status_for(exc: InferctlError) -> int:
    """Map an inferctl error to its HTTP status."""
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, (NotFound, NoExecutor)):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, LedgerLocked):
        return 503
    # ChainBroken, StorageError and anything else: the server's side failed.
    return 500


def error_body(status: int, message: str, extra: dict[str, Any], grpc: bool
               ) -> dict[str, Any]:
    """Build the JSON error body, with gRPC-gateway fields on chain query routes."""
    body: dict[str, Any] = {"error": message, **extra}
    if grpc:
        body.update({"code": GRPC_CODES.get(status, 2), "message": message,
                     "details": []})
    return body


def encode_json(value: Any) -> bytes:
    """Encode a response value; the stdlib keeps integers of any size exact."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class ApiServer(ThreadingHTTPServer):
    """A threading HTTP server that finishes every started request before it closes."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets connections under a burst of
    # parallel clients; the kernel caps this at net.core.somaxconn.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], config: ServerConfig,
                 routes: list[Route], family: int = socket.AF_INET) -> None:
        self.address_family = family
        self.config = config
        self.routes = routes
        self.write_lock = threading.Lock()
        self.in_flight = 0
        self._count_lock = threading.Lock()
        super().__init__(address, ApiRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed connection in one line instead of socketserver's traceback."""
        exc = sys.exc_info()[1]
        log.warning("connection from %s failed: %s: %s", client_address[0],
                    type(exc).__name__, exc)

    def count(self, delta: int) -> None:
        with self._count_lock:
            self.in_flight += delta

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str],
                                                     list[str]]:
        """Return the route for (method, path), its path parameters and allowed methods."""
        allowed = []
        for candidate in self.routes:
            found = candidate.pattern.match(path)
            if not found:
                continue
            if candidate.method == method:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                return candidate, params, []
            allowed.append(candidate.method)
        return None, {}, allowed


class ApiRequestHandler(BaseHTTPRequestHandler):
    """Reads one request, runs its route, writes one JSON response and one log line."""

    server: ApiServer
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT

    def version_string(self) -> str:
        from inferctl import __version__

        return f"inferctl/{__version__}"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        started = time.monotonic()
        self.server.count(1)
        self.close_connection = True
        status, size = 500, 0
        try:
            status, size = self._respond()
        except (BrokenPipeError, ConnectionResetError):
            status = CLIENT_CLOSED
            log.warning("%s closed the connection before the response to %s %s was "
                        "sent", self.client_address[0], self.command, self.path)
        finally:
            self.server.count(-1)
            self._log_access(status, size, started)

    def _respond(self) -> tuple[int, int]:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        found, params, allowed = self.server.match(self.command, path)
        grpc = found.grpc_errors if found else path.startswith("/productscience/")
        try:
            if found is None:
                raise self._no_route(path, allowed)
            body = self._read_body()
            request = Request(self.command, path, params,
                              parse_qs(parts.query, keep_blank_values=True), body,
                              self.server.config, self.server.write_lock)
            response = found.handler(request)
        except HttpError as exc:
            level = logging.WARNING if exc.status >= 500 else logging.INFO
            log.log(level, "%s %s: %d %s", self.command, self.path, exc.status,
                    exc.message)
            response = Response(exc.status, error_body(exc.status, exc.message,
                                                       exc.extra, grpc))
            if exc.status == 405:
                response.headers["Allow"] = ", ".join(sorted(set(allowed)))
        except InferctlError as exc:
            response = self._inferctl_error(exc, grpc)
        except Exception as exc:  # noqa: BLE001 - every failure must become JSON
            log.error("internal error on %s %s: %s\n%s", self.command, self.path, exc,
                      traceback.format_exc())
            response = Response(500, error_body(
                500, f"internal error: {type(exc).__name__}: {exc}", {}, grpc))
        return self._write(response)

    def _no_route(self, path: str, allowed: list[str]) -> HttpError:
        if allowed:
            return HttpError(405, f"method {self.command} is not allowed on {path}; "
                                  f"use {', '.join(sorted(set(allowed)))}")
        return HttpError(404, f"no endpoint {self.command} {path}; see docs/serve.md "
                              "for the list of endpoints")

    def _inferctl_error(self, exc: InferctlError, grpc: bool) -> Response:
        status = status_for(exc)
        extra: dict[str, Any] = {}
        problems = getattr(exc, "problems", None)
        if problems:
            extra["problems"] = problems
        if status >= 500 and not isinstance(exc, LedgerLocked):
            log.error("%s %s failed: %s", self.command, self.path, exc)
        else:
            log.info("%s %s: %d %s", self.command, self.path, status, exc)
        response = Response(status, error_body(status, str(exc), extra, grpc))
        if isinstance(exc, LedgerLocked):
            response.headers["Retry-After"] = "1"
        return response

    def _read_body(self) -> bytes:
        limit = self.server.config.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise HttpError(400, f"invalid Content-Length {length_text!r}") from None
        if length < 0:
            raise HttpError(400, f"invalid Content-Length {length_text!r}")
        if length > limit:
            self._discard(length)
            raise self._too_large(limit)
        return self._read_exactly(length)

    def _discard(self, length: int) -> None:
        """Read and drop a rejected body, so the client reads the 413 and no reset.

        Bodies above DRAIN_LIMIT are not read; the connection is closed instead.
        """
        remaining = length if length <= DRAIN_LIMIT else 0
        try:
            while remaining > 0:
                data = self.rfile.read(min(remaining, 65536))
                if not data:
                    return
                remaining -= len(data)
        except OSError:
            return

    def _read_exactly(self, length: int) -> bytes:
        try:
            data = self.rfile.read(length)
        except TimeoutError:
            raise HttpError(408, f"timed out after {SOCKET_TIMEOUT:g}s waiting for "
                                 "the request body") from None
        if len(data) != length:
            raise HttpError(400, f"request body ended after {len(data)} of {length} "
                                 "bytes")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise HttpError(400, f"invalid chunk size line {line[:40]!r}") from None
            if size == 0:
                self._skip_trailers()
                return b"".join(chunks)
            total += size
            if total > limit:
                raise self._too_large(limit)
            chunks.append(self._read_exactly(size))
            self.rfile.readline(MAX_CHUNK_LINE)

    def _skip_trailers(self) -> None:
        while self.rfile.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
            pass

    def _too_large(self, limit: int) -> HttpError:
        return HttpError(413, f"request body is larger than the limit of {limit} "
                              "bytes; send a smaller body, or restart inferctl serve "
                              "with a larger --max-body-bytes")

    def _write(self, response: Response) -> tuple[int, int]:
        payload = b"" if response.empty else encode_json(response.body)
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        return response.status, len(payload)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Send the server's own protocol errors (bad request line...) as JSON."""
        self.close_connection = True
        # A request line without a version reads as HTTP/0.9, which has no status
        # line. Respond in HTTP/1.1 so the client sees the status.
        self.request_version = self.protocol_version
        text = message or HTTPStatus(code).phrase
        try:
            _status, size = self._write(Response(code, {"error": text}))
        except OSError:
            return
        self._log_access(code, size, time.monotonic())

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the base class's log line; `_log_access` writes one per request."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _log_access(self, status: int, size: int, started: float) -> None:
        elapsed_ms = (time.monotonic() - started) * 1000
        request_line = getattr(self, "requestline", "") or "-"
        access_log.info('%s "%s" %d %d %.1fms', self.client_address[0], request_line,
                        status, size, elapsed_ms)
