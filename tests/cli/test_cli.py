"""The command line: `demo` serves and stops cleanly, `start` picks a mode, env settings."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_banner(process: subprocess.Popen[str], timeout_s: float = 30) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "Ctrl-C" in line:
            return "".join(seen)
    process.kill()
    raise AssertionError("no banner: " + "".join(seen))


def test_demo_serves_graphql_prints_tokens_and_stops_on_ctrl_c() -> None:
    port, emulator_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "demo",
            "--port",
            str(port),
            "--emulator-port",
            str(emulator_port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = wait_for_banner(process)
        assert f"http://127.0.0.1:{port}/graphql" in banner
        tokens = re.findall(r"^\s{6}(\S+)$", banner, flags=re.MULTILINE)
        tenants = re.findall(r"\(tenant (\S+)\):", banner)
        assert len(tokens) >= 2 and len(set(tenants)) >= 2
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ locations(first: 1) { nodes { id name } } }"},
            headers={"Authorization": f"Bearer {tokens[0]}"},
            timeout=10,
        ).json()
        assert answer["data"]["locations"]["nodes"][0]["name"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_start_serves_alone_when_an_upstream_url_is_set_and_keeps_its_flags() -> None:
    port, unused = free_port(), free_port()
    env = {
        **os.environ,
        "GATEWAY_UPSTREAM_URL": "http://127.0.0.1:9",
        "GATEWAY_PORT": str(unused),  # the flag below wins
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "start", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the gateway did not come up")
        assert health.json() == {"status": "ok"}
        # No emulator was started: the upstream is the unreachable URL given.
        body = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ locations { nodes { id } } }"},
            headers={"Authorization": "Bearer t"},
            timeout=20,
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        assert process.stdout is not None
        process.stdout.close()


def test_settings_come_from_the_environment_and_flags_win() -> None:
    env = {
        "GATEWAY_PORT": "9001",
        "GATEWAY_MAX_PAGE_SIZE": "75",
        "GATEWAY_GRAPHIQL": "false",
        "GATEWAY_CORS_ORIGINS": "http://localhost:5173, http://127.0.0.1:3000",
    }
    settings = Settings.from_env(env, port=9100)
    assert settings.port == 9100
    assert settings.max_page_size == 75
    assert settings.graphiql is False
    assert settings.cors_origins == ("http://localhost:5173", "http://127.0.0.1:3000")
    assert settings.host == "127.0.0.1"


def test_settings_hide_the_cursor_secret() -> None:
    settings = Settings.from_env({"GATEWAY_CURSOR_SECRET": "s3cr3t-value"})
    assert settings.cursor_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)


@pytest.mark.parametrize("bad", [{"GATEWAY_PORT": "eighty"}, {"GATEWAY_GRAPHIQL": "maybe"}])
def test_bad_environment_values_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Settings.from_env(bad)


def test_dockerfile_runs_the_start_command_on_all_interfaces() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "gateway", "start"]' in dockerfile
    assert "GATEWAY_HOST=0.0.0.0" in dockerfile
    assert "EXPOSE 8000" in dockerfile
    for copied in re.findall(r"^COPY (?!--)(.+) \S+$", dockerfile, flags=re.MULTILINE):
        for path in copied.split():
            assert (ROOT / path).exists(), f"Dockerfile copies a missing {path}"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_serve_runs_several_workers_that_share_the_cursor_secret() -> None:
    port = free_port()
    env = {**os.environ, "GATEWAY_CURSOR_SECRET": "shared-by-workers"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--upstream-url",
            "http://127.0.0.1:9",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        answered = 0
        while time.monotonic() < deadline and answered < 20:
            try:
                answered += httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).is_success
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered == 20
        assert len(_children(process.pid)) >= 2  # the supervisor's worker processes
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_serve_with_workers_refuses_a_secret_each_would_draw_alone() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_CURSOR_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--workers", "2", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gateway: serve --workers needs GATEWAY_CURSOR_SECRET: the workers must share it."
    ]
