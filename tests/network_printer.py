"""A label printer for the tests: a TCP server on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class TestPrinter:
    """Each connection's bytes, as a Zebra printer's raw port (9100) would take them."""

    __test__ = False  # not a pytest class

    port: int
    jobs: list[bytes] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int = 1, timeout_s: float = 5.0) -> list[bytes]:
        for _ in range(50):
            if len(self.jobs) >= count:
                break
            self.received.wait(timeout_s / 50)
            self.received.clear()
        return self.jobs


@contextmanager
def listening_printer() -> Iterator[TestPrinter]:
    """A printer on a free port of 127.0.0.1 for the duration of the block."""
    server = socket.create_server(("127.0.0.1", 0))
    printer = TestPrinter(port=server.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
            printer.jobs.append(b"".join(chunks))
            printer.received.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield printer
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])
