"""Child processes: each in its own session (process group), pinned to a core, always ended.

Every process the benchmark starts goes through `Service`, which is a context manager:
leaving the block (normally, on an error or on Ctrl-C) sends SIGTERM to the whole group,
then SIGKILL to whatever is left. A new session also keeps a terminal's Ctrl-C away from
the children, so only the runner decides when they stop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

STOP_GRACE_S = 5.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# The gateway under test gets core 0; the emulator, the load generator and this runner
# share core 1, so the gateway's CPU time and latency are its own.
GATEWAY_CORE, DRIVER_CORE = 0, 1


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(command: Sequence[str], core: int | None) -> list[str]:
    """`command` under `taskset -c core`, or as it is when core is None."""
    return list(command) if core is None else ["taskset", "-c", str(core), *command]


def pin_self(core: int | None) -> set[int] | None:
    """Pin this process to `core`; returns the previous affinity (to restore), or None."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    return previous


def restore_affinity(previous: set[int] | None) -> None:
    if previous is not None:
        os.sched_setaffinity(0, previous)


def free_port() -> int:
    """A loopback port that was free a moment ago (the child binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """A long-running child (emulator, gateway) in its own process group."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Service:
        output = open(self.log, "wb") if self.log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if not isinstance(output, int):
                output.close()  # the child holds its own copy
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the group; SIGKILL to whatever of it is left after the grace period."""
        if self.process is None:
            return
        pgid = self.process.pid
        _signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_S)
        if self.process.poll() is None or group_members(pgid):
            _signal_group(pgid, signal.SIGKILL)
        self.process.wait(timeout=STOP_GRACE_S)

    def log_tail(self, lines: int = 20) -> str:
        if not self.log or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(pgid, sig)


def wait_for_graphql(service: Service, url: str, timeout_s: float = 60.0) -> None:
    """Until `url` answers a `{ __typename }` POST; raises with the log tail if the child
    exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not service.running():
            raise RuntimeError(f"{service.name} exited early:\n{service.log_tail()}")
        try:
            response = httpx.post(url, json={"query": "{ __typename }"}, timeout=2.0)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{service.name} did not answer at {url}:\n{service.log_tail()}")


def wait_for_http(service: Service, url: str, timeout_s: float = 30.0) -> None:
    """Until a GET of `url` answers at all (any status)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not service.running():
            raise RuntimeError(f"{service.name} exited early:\n{service.log_tail()}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{service.name} did not answer at {url}:\n{service.log_tail()}")


# --- what a process group costs, from /proc --------------------------------------------------


def group_members(pgid: int) -> list[int]:
    """Pids whose process group is `pgid` (Linux /proc; empty elsewhere)."""
    members = []
    proc = Path("/proc")
    if not proc.is_dir():
        return members
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces): field 3 onwards."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    """utime + stime of every live member of the group, in seconds."""
    rss_kib: int


def group_usage(pgid: int) -> Usage:
    """CPU time and resident memory of the process group (the taskset wrapper execs the
    real program, so the group is the gateway and any workers it forks)."""
    ticks, rss = 0, 0
    for pid in group_members(pgid):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        rss += _vm_rss_kib(pid)
    return Usage(ticks / CLOCK_TICKS, rss)


def _vm_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
