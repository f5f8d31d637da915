"""Run moto's real S3 server on 127.0.0.1 so tests talk to S3 over HTTP, like production does."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def moto_s3_enforcing_iam(log: Path, setup_calls: int) -> Iterator[str]:
    """A moto server of its own (a process: IAM enforcement is read from its environment at start) that checks
    every request's credentials and IAM policy after its first `setup_calls` requests; yield its endpoint url."""
    from reewatch.prefect_server import free_port

    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        env={"INITIAL_NO_AUTH_ACTION_COUNT": str(setup_calls), "PATH": "/usr/bin:/bin"},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310 (loopback)
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=20)
