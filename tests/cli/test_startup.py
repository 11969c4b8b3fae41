"""Start-up as an operator meets it: flags documented, mistakes refused in one line,
`start` never serving made-up data unasked, tokens printed, in-flight work drained."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

from gateway.config import Settings, env_name
from tests.cli.test_cli import free_port, wait_for_banner
from tests.support import running_emulator

ROOT = Path(__file__).resolve().parents[2]


def gateway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_every_setting_has_help_a_serve_flag_and_a_readme_row() -> None:
    usage = gateway("serve", "--help").stdout
    readme = (ROOT / "README.md").read_text()
    for f in fields(Settings):
        assert f.metadata.get("help"), f"{f.name} has no help text"
        assert f"`{env_name(f)}`" in readme, f"README's table misses {env_name(f)}"
        flag = "--" + f.name.replace("_", "-")
        if not f.metadata["flag"]:  # secrets: a flag's value would show in the process list
            assert flag not in usage
        else:
            assert flag in usage and env_name(f) in usage


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "exit_code", "says"),
    [
        (["--max-query-depth", "0"], {}, 2, "GATEWAY_MAX_QUERY_DEPTH must be at least 1"),
        ([], {"GATEWAY_MAX_PAGE_SIZE": "lots"}, 2, "GATEWAY_MAX_PAGE_SIZE: not an int"),
        (["--port", "eighty"], {}, 2, "--port: not an int"),
        (["--upstream-url", "kempower.io/api"], {}, 2, "http(s) URL with a host"),
        (["--upstream-url", "http://127.0.0.1:port"], {}, 2, "GATEWAY_UPSTREAM_URL is not a URL"),
        (["--log-format", "xml"], {}, 2, "GATEWAY_LOG_FORMAT must be one of json, text"),
        ([], {"GATEWAY_CORS_ORIGINS": "not an origin"}, 2, "GATEWAY_CORS_ORIGINS"),
    ],
)
def test_a_bad_setting_stops_serve_with_one_line(
    args: list[str], env: dict[str, str], exit_code: int, says: str
) -> None:
    result = gateway("serve", "--port", str(free_port()), *args, env=env)
    assert says in one_line_failure(result)
    assert result.returncode == exit_code


@pytest.mark.parametrize("command", ["serve", "emulator", "demo"])
def test_a_port_in_use_stops_start_up_with_one_line(command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = gateway(command, "--port", str(port))
    line = one_line_failure(result)
    assert line == f"gateway: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert result.returncode == 1


def test_start_refuses_to_serve_made_up_data_without_an_upstream_url() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"GATEWAY_UPSTREAM_URL", "GATEWAY_DEMO"}}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "start", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "start needs GATEWAY_UPSTREAM_URL" in one_line_failure(result)
    assert result.returncode == 2


@pytest.mark.parametrize("ask", [["--demo"], []])
def test_start_runs_the_demo_when_asked(ask: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_UPSTREAM_URL"}
    if not ask:
        env["GATEWAY_DEMO"] = "1"
    port, emulator_port = free_port(), free_port()
    ports = ["--port", str(port), "--emulator-port", str(emulator_port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "start", *ask, *ports],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = wait_for_banner(process)
        assert f"http://127.0.0.1:{port}/graphql" in banner
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        assert process.stdout is not None
        process.stdout.close()


def test_the_emulator_prints_tokens_that_it_accepts() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        printed = []
        while len(re.findall(r"^\s{6}(\S+)$", "".join(printed), flags=re.MULTILINE)) < 3:
            line = process.stdout.readline()
            assert line, "the emulator exited before printing its tokens: " + "".join(printed)
            printed.append(line)
        token = re.findall(r"^\s{6}(\S+)$", "".join(printed), flags=re.MULTILINE)[0]
        for _ in range(200):
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/locations",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=5,
                )
                break
            except httpx.TransportError:
                subprocess.run(["sleep", "0.05"], check=True)
        assert answer.status_code == 200
        refused = httpx.get(
            f"http://127.0.0.1:{port}/locations",
            headers={"Authorization": "Bearer not-a-token"},
            timeout=5,
        )
        assert refused.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=15)
        process.stdout.close()


async def test_sigterm_lets_a_slow_request_in_flight_finish() -> None:
    """Graceful drain: SIGTERM stops new connections; an answer already under way is sent."""
    async with running_emulator() as emulator:
        emulator.state.latency_ms = 2000  # the in-flight request is waiting on this
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--port",
            str(port),
            "--upstream-url",
            emulator.url,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(600):
                    try:
                        await http.get("/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                in_flight = asyncio.create_task(
                    http.post(
                        "/graphql",
                        json={"query": "{ locations(first: 2) { nodes { name } } }"},
                        headers={"Authorization": f"Bearer {emulator.token_a}"},
                        timeout=30,
                    )
                )
                for _ in range(1000):  # until the upstream call has started
                    if emulator.state.requests:
                        break
                    await asyncio.sleep(0.02)
                process.send_signal(signal.SIGTERM)
                answer = await in_flight
                assert answer.status_code == 200
                assert len(answer.json()["data"]["locations"]["nodes"]) == 2
                # uvicorn re-raises the signal once drained: the exit is SIGTERM's own.
                assert await process.wait() in (0, -signal.SIGTERM)
            async with httpx.AsyncClient() as fresh:  # and it no longer listens
                with pytest.raises(httpx.ConnectError):
                    await fresh.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
