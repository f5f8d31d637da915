"""Run moto's real S3 server on 127.0.0.1 so tests talk to S3 over HTTP, like production does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer


@contextmanager
def moto_s3(port: int = 0) -> Iterator[str]:
    """Start a moto server (port 0 = any free port) and yield its endpoint url."""
    # ThreadedMotoServer binds with werkzeug's make_server, which accepts port 0 and reports the
    # real port through get_host_and_port(), so there is no probe-then-bind race.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, real_port = server.get_host_and_port()
        yield f"http://{host}:{real_port}"
    finally:
        server.stop()
