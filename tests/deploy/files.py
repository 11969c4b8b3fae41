"""Readers for the deployment files: Dockerfile instructions, YAML documents, settings names."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from gateway.cli import DEMO_ENV
from gateway.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# Every variable the gateway reads: its settings, and `start`'s demo switch.
SETTINGS_VARIABLES = frozenset(ENV_PREFIX + f.name.upper() for f in fields(Settings)) | {DEMO_ENV}
GATEWAY_VARIABLE = re.compile(r"\bGATEWAY_[A-Z0-9_]+\b")


def unknown_variables(text: str) -> set[str]:
    """`GATEWAY_*` names in `text` that the gateway does not read."""
    return set(GATEWAY_VARIABLE.findall(text)) - SETTINGS_VARIABLES


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str  # continuation lines joined, comments dropped
    stage: int  # index of the FROM it belongs to (-1 before the first)


def dockerfile(path: Path = ROOT / "Dockerfile") -> list[Instruction]:
    """The instructions of a Dockerfile, in order, each with its stage."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, arguments = pending.partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(keyword.upper(), arguments.strip(), stage))
    return instructions


def exec_form(arguments: str) -> list[str]:
    """The argv of an exec-form CMD / HEALTHCHECK CMD (a JSON array)."""
    parsed = yaml.safe_load(arguments)
    assert isinstance(parsed, list), f"not exec form: {arguments}"
    return [str(item) for item in parsed]


def env_assignments(instructions: list[Instruction], stage: int) -> dict[str, str]:
    """Every `ENV key=value` of one stage."""
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV" and instruction.stage == stage:
            for word in shlex.split(instruction.arguments, comments=True):
                key, _, value = word.partition("=")
                values[key] = value
    return values


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
