"""ChargEye GraphQL gateway: one GraphQL API (and GraphiQL) over the ChargEye Locations API.

Commands: `serve` runs the gateway against a ChargEye base URL; `demo` runs it with the
embedded emulator (what `make run` starts); `start` is the container's command; `emulator`
runs the emulator alone; `export-schema` prints the SDL. Every `serve` flag is also a
`GATEWAY_*` variable; flags win over variables, which win over the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from gateway.app import create_app
from gateway.config import Settings, SettingsError, env_name, parse, type_name
from gateway.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from gateway.http.demo_guide import DemoGuide, DemoTenant
from gateway.http.server import GatewayServer, GuardedHttpToolsProtocol, server_config
from gateway.ops import logs
from gateway.schema.build import export_sdl

EMULATOR_ENV_PREFIX = "CHARGEYE_EMULATOR_"
DEMO_EMULATOR_PORT = 8001
# `start` serves fake data only when asked: a missing upstream URL must not go unnoticed.
DEMO_ENV = "GATEWAY_DEMO"


class StartupError(Exception):
    """Start-up cannot go on; the message is the one line the user sees."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


DEMO_TICK_S = 2.0  # `demo` steps the live clock so subscriptions have something to show


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args, os.environ)
    except (SettingsError, StartupError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, StartupError) else 2


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.command == "export-schema":
        sys.stdout.write(export_sdl())
        return 0
    if args.command == "emulator":
        return _emulator(env, args)
    if args.command == "start":
        if not (args.upstream_url or env.get("GATEWAY_UPSTREAM_URL")):
            if not (args.demo or _truthy(env.get(DEMO_ENV))):
                raise StartupError(
                    "start needs GATEWAY_UPSTREAM_URL (or --upstream-url); to run the demo "
                    f"with the emulator's made-up data instead, pass --demo or set {DEMO_ENV}=1",
                    exit_code=2,
                )
            return asyncio.run(_demo(env, args))
        return _serve(env, args)
    if args.command == "serve":
        return _serve(env, args)
    return asyncio.run(_demo(env, args))


def _serve(env: Mapping[str, str], args: argparse.Namespace) -> int:
    settings = Settings.from_env(env, **_setting_flags(args))
    _configure_logging(settings.log_level, settings.log_format)
    if settings.workers > 1:
        return _serve_workers(settings, env)
    sock = listen(settings.host, settings.port)
    app = create_app(settings)
    _tune_gc()
    GatewayServer(server_config(app, settings)).run(sockets=[sock])
    return 0


def _serve_workers(settings: Settings, env: Mapping[str, str]) -> int:
    """`serve` with several worker processes, each building the app from the environment.

    Cursors are signed with `cursor_secret`: every worker must sign with the same one, or
    a cursor from one would be refused by the next, so it must be set, not drawn.
    """
    if "GATEWAY_CURSOR_SECRET" not in env:
        raise StartupError(
            "serve --workers needs GATEWAY_CURSOR_SECRET: the workers must share it.",
            exit_code=2,
        )
    sock = listen(settings.host, settings.port)
    if settings.metrics_multiprocess_dir:
        # prometheus-client reads this before any metric exists: set it for the workers.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_multiprocess_dir
    os.environ.update(settings.as_env())
    config = server_config(
        "gateway.cli:worker_app",
        settings,
        factory=True,
        workers=settings.workers,
        http="gateway.http.server:GuardedHttpToolsProtocol",
    )
    Multiprocess(config, sockets=[sock]).run()
    return 0


def worker_app() -> ASGIApp:
    """The app of one worker process, from the settings its parent put in the environment."""
    settings = Settings.from_env(os.environ)
    _configure_logging(settings.log_level, settings.log_format)
    GuardedHttpToolsProtocol.header_timeout_s = settings.header_timeout_s
    app = create_app(settings)
    _tune_gc()
    return app


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a taken port is one line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)  # worker processes accept on it
    return sock


def _tune_gc() -> None:
    """Keep the collector's full passes short.

    Objects alive at start-up (schema, caches, imported modules) are moved out of the
    collector's sight, so a full collection walks only what requests left behind. The
    thresholds stay the defaults: a request's rows are freed by reference counting when
    it ends (its loader caches are emptied), and what remains in cycles must still be
    collected often, or the process grows by megabytes a second under load.
    """
    gc.collect()
    gc.freeze()


def _configure_logging(level: str, format: str = "text") -> None:
    """Every logger of the process (ours, uvicorn's) at `level`, in one `format`."""
    logs.configure(level, format)


def _truthy(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "yes", "on"}


# Parsing ---------------------------------------------------------------------------------

_DEMO_OWNED = frozenset({"upstream_url"})  # the demo points the gateway at its own emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="the gateway alone, against any ChargEye base URL", description=_SERVE
    )
    _setting_arguments(serve)

    emulator = commands.add_parser(
        "emulator", help="the embedded ChargEye emulator alone (prints its demo tokens)"
    )
    _emulator_flags(emulator)
    emulator.add_argument("--host", help="interface to listen on (default: 127.0.0.1)")
    emulator.add_argument(
        "--port", type=int, help=f"port to listen on (default: {DEMO_EMULATOR_PORT})"
    )

    demo = commands.add_parser(
        "demo", help="emulator and gateway together (what `make run` starts)"
    )
    start = commands.add_parser(
        "start",
        help="the container's command: `serve` if an upstream URL is set, `demo` if asked",
        description=_START,
    )
    for command in (demo, start):
        _emulator_flags(command)
        command.add_argument(
            "--emulator-port",
            type=int,
            help=f"port of the demo's emulator (default: {DEMO_EMULATOR_PORT}; "
            f"env: {EMULATOR_ENV_PREFIX}PORT)",
        )
    _setting_arguments(demo, skip=_DEMO_OWNED)
    demo.set_defaults(upstream_url=None)
    _setting_arguments(start)
    start.add_argument(
        "--demo",
        action="store_true",
        help=f"without an upstream URL, run the demo (made-up data; env: {DEMO_ENV}=1)",
    )

    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return parser


_SERVE = "Serve the gateway. Each flag is also a GATEWAY_* variable (the flag wins)."
_START = (
    "Serve against GATEWAY_UPSTREAM_URL. Without one, refuse to start unless the demo is "
    f"asked for (--demo or {DEMO_ENV}=1): fake data must never stand in for a missing URL."
)


def _setting_arguments(parser: argparse.ArgumentParser, skip: frozenset[str] = frozenset()) -> None:
    """One flag per setting, with its help, default and variable; values parsed later."""
    group = parser.add_argument_group("settings (flag > GATEWAY_* variable > default)")
    defaults = Settings.__dataclass_fields__
    for f in fields(Settings):
        if not f.metadata.get("flag", True) or f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = defaults[f.name].default
        shown = ",".join(default) if isinstance(default, tuple) else default
        suffix = (
            f"(default: {shown!s}; env: {env_name(f)})"
            if shown != ""
            else (f"(env: {env_name(f)})")
        )
        help_text = f"{f.metadata.get('help', '')} {suffix}".replace("%", "%%")
        if type_name(f) == "bool":
            group.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text
            )
        else:
            # Choices are checked by `Settings`, so a bad one is the same single line.
            choices = f.metadata.get("choices")
            metavar = "{" + ",".join(choices) + "}" if choices else None
            group.add_argument(
                flag,
                dest=f.name,
                metavar=metavar or _METAVARS.get(type_name(f), "TEXT"),
                help=help_text,
            )


_METAVARS = {"int": "N", "float": "SECONDS", "tuple[str, ...]": "LIST"}


def _setting_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags, typed; a bad value names its flag."""
    given: dict[str, Any] = {}
    for f in fields(Settings):
        raw = getattr(args, f.name, None)
        if raw is None:
            continue
        if isinstance(raw, bool):
            given[f.name] = raw
            continue
        try:
            given[f.name] = parse(f, raw)
        except SettingsError as exc:
            flag = "--" + f.name.replace("_", "-")
            raise SettingsError(str(exc).replace(env_name(f), flag, 1)) from None
    return given


def _emulator_flags(parser: argparse.ArgumentParser) -> None:
    defaults = EmulatorConfig()
    group = parser.add_argument_group(f"emulator (flag > {EMULATOR_ENV_PREFIX}* variable)")
    group.add_argument(
        "--seed", type=int, help=f"seed of the demo network (default: {defaults.seed})"
    )
    group.add_argument(
        "--latency-ms",
        type=int,
        help=f"delay added to every emulator answer (default: {defaults.latency_ms})",
    )
    group.add_argument(
        "--page-size",
        type=int,
        help=f"rows per page of the emulator's paged views (default: {defaults.page_size})",
    )
    group.add_argument(
        "--admin",
        action="store_true",
        default=None,
        help="serve the /_emulator/ control endpoints (faults, clock)",
    )
    group.add_argument(
        "--tick-s",
        type=float,
        help="wall-clock seconds per step of the live demo world (0: still; "
        f"default: 0, demo: {DEMO_TICK_S:g}; env: {EMULATOR_ENV_PREFIX}TICK_S)",
    )


def _emulator_config(
    env: Mapping[str, str], args: argparse.Namespace, *, tick_s: float = 0.0
) -> EmulatorConfig:
    def pick(flag: object, name: str, default: int) -> int:
        if flag is not None:
            return int(str(flag))
        raw = env.get(EMULATOR_ENV_PREFIX + name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise StartupError(f"{EMULATOR_ENV_PREFIX}{name}: not an int: {raw!r}", 2) from None

    defaults = EmulatorConfig()
    admin = args.admin if args.admin is not None else env.get(EMULATOR_ENV_PREFIX + "ADMIN") == "1"
    try:
        return EmulatorConfig(
            seed=pick(args.seed, "SEED", defaults.seed),
            latency_ms=pick(args.latency_ms, "LATENCY_MS", defaults.latency_ms),
            page_size=pick(args.page_size, "PAGE_SIZE", defaults.page_size),
            admin=bool(admin),
            tick_s=args.tick_s if args.tick_s is not None else _tick(env, tick_s),
        )
    except ValueError as exc:
        raise StartupError(f"emulator: {exc}", exit_code=2) from None


def _tick(env: Mapping[str, str], default: float) -> float:
    raw = env.get(EMULATOR_ENV_PREFIX + "TICK_S")
    try:
        return default if raw is None else float(raw)
    except ValueError:
        raise StartupError(f"{EMULATOR_ENV_PREFIX}TICK_S: not a number: {raw!r}", 2) from None


# Running ---------------------------------------------------------------------------------


def _emulator(env: Mapping[str, str], args: argparse.Namespace) -> int:
    _configure_logging("info")
    host = args.host or env.get(EMULATOR_ENV_PREFIX + "HOST", "127.0.0.1")
    port = args.port or int(env.get(EMULATOR_ENV_PREFIX + "PORT", DEMO_EMULATOR_PORT))
    sock = listen(host, port)
    emulator_app = create_emulator_app(_emulator_config(env, args))
    state: EmulatorState = emulator_app.state.emulator
    lines = ["", f"  ChargEye emulator   http://{_shown_host(host)}:{port}", ""]
    print("\n".join(lines + _token_lines(state) + [""]), flush=True)
    uvicorn.Server(uvicorn.Config(emulator_app, log_level="info")).run(sockets=[sock])
    return 0


async def _demo(env: Mapping[str, str], args: argparse.Namespace) -> int:
    emulator_port = args.emulator_port or int(
        env.get(EMULATOR_ENV_PREFIX + "PORT", DEMO_EMULATOR_PORT)
    )
    flags = _setting_flags(args)
    flags["upstream_url"] = f"http://127.0.0.1:{emulator_port}"
    settings = Settings.from_env(env, **flags)
    emulator_app = create_emulator_app(_emulator_config(env, args, tick_s=DEMO_TICK_S))
    if "GATEWAY_LOG_FORMAT" not in env and "log_format" not in flags:
        settings = replace(settings, log_format="text")  # a person reads the demo's log
    _configure_logging(settings.log_level, settings.log_format)
    if "GATEWAY_UPSTREAM_PAGE_SIZE" not in env and "upstream_page_size" not in flags:
        # The estimate's page size is the emulator's: the demo knows both sides.
        settings = replace(settings, upstream_page_size=emulator_app.state.emulator.page_size)
    if not settings.cors_origins:
        # GraphiQL is served by the gateway itself; allow it under both loopback names.
        origins = (f"http://127.0.0.1:{settings.port}", f"http://localhost:{settings.port}")
        settings = replace(settings, cors_origins=origins)
    sockets = [listen("127.0.0.1", emulator_port), listen(settings.host, settings.port)]
    demo = _demo_guide(emulator_app.state.emulator)
    servers: list[uvicorn.Server] = [
        _QuietServer(uvicorn.Config(emulator_app, log_level="warning")),
        _QuietServer(server_config(create_app(settings, demo=demo), settings, log_level="warning")),
    ]
    _tune_gc()
    with _stop_on_signals(servers):
        tasks = [
            asyncio.create_task(server.serve(sockets=[sock]))
            for server, sock in zip(servers, sockets, strict=True)
        ]
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                for server in servers:
                    server.should_exit = True
                await asyncio.gather(*tasks, return_exceptions=True)
                raise StartupError("the demo could not start (see the lines above)")
            await asyncio.sleep(0.05)
        _print_banner(settings, emulator_port, emulator_app.state.emulator)
        await asyncio.gather(*tasks)
    return 0


class _QuietServer(GatewayServer):
    """A server that leaves signal handling to `demo`, which stops both servers at once."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextmanager
def _stop_on_signals(servers: list[uvicorn.Server]) -> Iterator[None]:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        print("\nstopping gateway and emulator ...", file=sys.stderr)
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host


def _token_lines(state: EmulatorState) -> list[str]:
    lines = ['  Demo bearer tokens (send as the header "Authorization: Bearer <token>"):']
    for tenant in state.tenants:
        lines.append(f"    {tenant.name} (tenant {tenant.id}):")
        lines.append(f"      {state.access_tokens[tenant.id]}")
    return lines


def _demo_guide(state: EmulatorState) -> DemoGuide:
    """What GraphiQL offers in the demo: the emulator's tenants and their tokens."""
    tokens = state.access_tokens
    return DemoGuide(tuple(DemoTenant(t.name, t.id, tokens[t.id]) for t in state.tenants))


def _print_banner(settings: Settings, emulator_port: int, state: EmulatorState) -> None:
    lines = [
        "",
        f"  GraphQL + GraphiQL  http://{_shown_host(settings.host)}:{settings.port}/graphql",
        f"  ChargEye emulator   http://127.0.0.1:{emulator_port}",
        "",
        "  Open GraphiQL at that address: the README's queries are tabs, a token filled in.",
        "",
        *_token_lines(state),
        "",
        "  Ctrl-C stops both.",
        "",
    ]
    print("\n".join(lines), flush=True)
