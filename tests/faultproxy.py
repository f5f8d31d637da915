"""A fault-injecting HTTP proxy in front of moto's S3 server, for storage-fault tests.

Point `AWS_ENDPOINT_URL` at `proxy.endpoint` and both boto3 (the lake) and DuckDB's httpfs (Parquet, catalog)
go through it. Requests are forwarded to moto unchanged unless a rule of the proxy's `FaultPlan` matches:

    with FaultProxy(s3_endpoint) as proxy:
        proxy.plan = FaultPlan([Fault("503", method="PUT", key_contains="catalog.duckdb", nth=1, times=2)])

A rule counts the requests it matches (method and a substring of the path); the `nth` of them and the `times - 1`
after it get the fault (`times=0`: every one from the `nth` on, a permanent fault). Kinds:

- `500`, `503`: an S3 error answer (InternalError, SlowDown); the request never reaches moto.
- `reset`: the connection is reset before the request is forwarded (nothing happened in the store).
- `reset_after`: the request is forwarded and applied, then the connection is reset: the answer is lost.
- `timeout`: no answer for `delay` seconds, then the connection closes (the client's read timeout fires first).
- `slow_body`: the answer comes in small pieces with `delay` seconds between them.
- `truncated`: the answer's headers promise the whole body; half of it comes, then the connection closes.

Only the standard library: a threaded `http.server` on 127.0.0.1, one upstream connection per request.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

KINDS = ("500", "503", "reset", "reset_after", "timeout", "slow_body", "truncated")
# Hop-by-hop headers are the proxy's own business; the body is re-framed with Content-Length.
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
_S3_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
}


@dataclass
class Fault:
    kind: str
    method: str | None = None
    """Only requests with this HTTP method (GET, PUT, HEAD, POST, DELETE); None: any."""
    key_contains: str = ""
    """Only requests whose path (`/bucket/key`, without the query) contains this."""
    nth: int = 1
    """The first matching request (1-based) that gets the fault."""
    times: int = 1
    """How many matching requests in a row get it, from the `nth` on; 0 means all of them (a permanent fault)."""
    delay: float = 2.0
    """Seconds of silence for `timeout`; seconds between pieces for `slow_body`."""
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")

    def applies(self, method: str, path: str) -> bool:
        """Count a matching request; True when this one gets the fault."""
        if (self.method and method != self.method) or self.key_contains not in path:
            return False
        self.seen += 1
        if self.seen < self.nth or (self.times and self.seen >= self.nth + self.times):
            return False
        self.fired += 1
        return True


@dataclass
class FaultPlan:
    rules: list[Fault] = field(default_factory=list)

    def pick(self, method: str, path: str) -> Fault | None:
        """The first rule that fires for this request (every matching rule counts it)."""
        chosen = None
        for rule in self.rules:
            if rule.applies(method, path) and chosen is None:
                chosen = rule
        return chosen


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    fault: str | None
    status: int | None


class FaultProxy:
    """The proxy server; a context manager that starts it on a free port and stops it after."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.plan = FaultPlan()
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def set_faults(self, *rules: Fault) -> FaultPlan:
        with self._lock:
            self.plan = FaultPlan(list(rules))
            return self.plan

    def clear(self) -> None:
        self.set_faults()

    def requests(self, method: str | None = None, key_contains: str = "") -> list[Seen]:
        with self._lock:
            return [s for s in self.log if (not method or s.method == method) and key_contains in s.path]

    def faults_fired(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.log if s.fault]

    def _decide(self, method: str, path: str) -> Fault | None:
        with self._lock:
            return self.plan.pick(method, path)

    def _record(self, method: str, path: str, fault: Fault | None, status: int | None) -> None:
        with self._lock:
            self.log.append(Seen(method, path, fault.kind if fault else None, status))


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # the proxy's log is `proxy.log`, not stderr

        def do_GET(self) -> None:
            self._proxy()

        do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reset(self) -> None:
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN, a connection reset by peer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _proxy(self) -> None:
            path = unquote(urlsplit(self.path).path)
            body = self._read_body()
            fault = proxy._decide(self.command, path)
            kind = fault.kind if fault else None
            if fault and kind in _S3_ERRORS:
                status, code, text = _S3_ERRORS[kind]
                payload = (
                    f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{text}</Message>'
                    f"<Resource>{path}</Resource><RequestId>faultproxy</RequestId></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload) if self.command != "HEAD" else 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                proxy._record(self.command, path, fault, status)
                return
            if kind == "reset":
                proxy._record(self.command, path, fault, None)
                self._reset()
                return
            if kind == "timeout":
                proxy._record(self.command, path, fault, None)
                time.sleep(fault.delay if fault else 0)
                self._reset()
                return

            status, headers, answer = self._forward(body)
            proxy._record(self.command, path, fault, status)
            if kind == "reset_after":
                self._reset()
                return
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in _HOP and not (name.lower() == "content-length" and self.command != "HEAD"):
                    self.send_header(name, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if kind == "truncated":
                self.wfile.write(answer[: len(answer) // 2])
                self.wfile.flush()
                self._reset()
                return
            if kind == "slow_body":
                for piece in _pieces(answer, max(1, len(answer) // 4)):
                    self.wfile.write(piece)
                    self.wfile.flush()
                    time.sleep(fault.delay if fault else 0)
                return
            self.wfile.write(answer)

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=120)
            try:
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in _HOP and name.lower() != "content-length":
                        upstream.putheader(name, value)
                if body or self.command in ("PUT", "POST"):
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body)
                response = upstream.getresponse()
                answer = response.read() if self.command != "HEAD" else b""
                return response.status, response.getheaders(), answer
            finally:
                upstream.close()

    return Handler


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
