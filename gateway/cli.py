"""`python -m gateway serve | emulator | demo | export-schema`.

The only module that reads the environment: flags win over `GATEWAY_*` and
`CHARGEYE_EMULATOR_*` variables, which win over the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from gateway.app import create_app
from gateway.config import Settings
from gateway.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from gateway.http.server import GuardedHttpToolsProtocol, server_config
from gateway.ops import logs
from gateway.schema.build import export_sdl

EMULATOR_ENV_PREFIX = "CHARGEYE_EMULATOR_"
DEMO_EMULATOR_PORT = 8001
DEMO_TICK_S = 2.0  # `demo` steps the live clock so subscriptions have something to show


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = os.environ
    if args.command == "export-schema":
        sys.stdout.write(export_sdl())
        return 0
    if args.command == "emulator":
        _configure_logging("info")
        config = _emulator_config(env, args)
        host = args.host or env.get(EMULATOR_ENV_PREFIX + "HOST", "127.0.0.1")
        port = args.port or int(env.get(EMULATOR_ENV_PREFIX + "PORT", DEMO_EMULATOR_PORT))
        uvicorn.run(create_emulator_app(config), host=host, port=port, log_level="info")
        return 0
    upstream_url = args.upstream_url or env.get("GATEWAY_UPSTREAM_URL")
    if args.command == "serve" or (args.command == "start" and upstream_url):
        settings = Settings.from_env(
            env,
            host=args.host,
            port=args.port,
            upstream_url=args.upstream_url,
            workers=getattr(args, "workers", None),
        )
        _configure_logging(settings.log_level, settings.log_format)
        if settings.workers > 1:
            return _serve_workers(settings, env)
        app = create_app(settings)
        _tune_gc()
        uvicorn.Server(server_config(app, settings)).run()
        return 0
    return asyncio.run(_demo(env, args))


def _serve_workers(settings: Settings, env: Mapping[str, str]) -> int:
    """`serve` with several worker processes, each building the app from the environment.

    Cursors are signed with `cursor_secret`: every worker must sign with the same one, or
    a cursor from one would be refused by the next, so it must be set, not drawn.
    """
    if "GATEWAY_CURSOR_SECRET" not in env:
        print(
            "serve --workers needs GATEWAY_CURSOR_SECRET: the workers must share it.",
            file=sys.stderr,
        )
        return 2
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
    sock = config.bind_socket()
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


def _tune_gc() -> None:
    """Keep the collector off the hot path.

    Every request allocates tens of thousands of short-lived, acyclic objects (decoded
    rows, plan values); with the defaults a full collection ran every few requests and
    walked every long-lived object (schema, caches, imported modules), a fifth of the CPU
    under load. Objects alive at start-up are moved out of the collector's sight, and full
    collections are made rarer; young generations still collect as before.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 50, 1000)


def _configure_logging(level: str, format: str = "text") -> None:
    """Every logger of the process (ours, uvicorn's) at `level`, in one `format`."""
    logs.configure(level, format)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="the gateway alone, against any ChargEye base URL")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--upstream-url", help="ChargEye base URL, e.g. https://kempower.io/api")
    serve.add_argument(
        "--workers", type=int, help="worker processes (needs GATEWAY_CURSOR_SECRET when > 1)"
    )

    emulator = commands.add_parser("emulator", help="the embedded ChargEye emulator alone")
    _emulator_flags(emulator)
    emulator.add_argument("--host")
    emulator.add_argument("--port", type=int)

    demo_help = {
        "demo": "emulator and gateway together (what `make run` starts)",
        "start": "`serve` when GATEWAY_UPSTREAM_URL is set, else `demo` (the image's command)",
    }
    for name, help_text in demo_help.items():
        demo = commands.add_parser(name, help=help_text)
        _emulator_flags(demo)
        demo.add_argument("--host")
        demo.add_argument("--port", type=int)
        demo.add_argument("--emulator-port", type=int)
        if name == "start":
            demo.add_argument("--upstream-url", help="serve against this ChargEye base URL")
        else:
            demo.set_defaults(upstream_url=None)

    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return parser


def _emulator_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int)
    parser.add_argument("--latency-ms", type=int)
    parser.add_argument("--page-size", type=int)
    parser.add_argument("--admin", action="store_true", default=None, help="enable /_emulator/")
    parser.add_argument("--tick-s", type=float, help="wall seconds per live clock step (0: still)")


def _emulator_config(
    env: Mapping[str, str], args: argparse.Namespace, *, tick_s: float = 0.0
) -> EmulatorConfig:
    def pick(flag: object, name: str, default: int) -> int:
        if flag is not None:
            return int(str(flag))
        return int(env.get(EMULATOR_ENV_PREFIX + name, default))

    defaults = EmulatorConfig()
    admin = args.admin if args.admin is not None else env.get(EMULATOR_ENV_PREFIX + "ADMIN") == "1"
    return EmulatorConfig(
        seed=pick(args.seed, "SEED", defaults.seed),
        latency_ms=pick(args.latency_ms, "LATENCY_MS", defaults.latency_ms),
        page_size=pick(args.page_size, "PAGE_SIZE", defaults.page_size),
        admin=bool(admin),
        tick_s=args.tick_s
        if args.tick_s is not None
        else float(env.get(EMULATOR_ENV_PREFIX + "TICK_S", tick_s)),
    )


async def _demo(env: Mapping[str, str], args: argparse.Namespace) -> int:
    emulator_port = args.emulator_port or int(
        env.get(EMULATOR_ENV_PREFIX + "PORT", DEMO_EMULATOR_PORT)
    )
    emulator_app = create_emulator_app(_emulator_config(env, args, tick_s=DEMO_TICK_S))
    settings = Settings.from_env(
        env,
        host=args.host,
        port=args.port,
        upstream_url=f"http://127.0.0.1:{emulator_port}",
    )
    if "GATEWAY_LOG_FORMAT" not in env:
        settings = replace(settings, log_format="text")  # a person reads the demo's log
    _configure_logging(settings.log_level, settings.log_format)
    if "GATEWAY_UPSTREAM_PAGE_SIZE" not in env:
        # The estimate's page size is the emulator's: the demo knows both sides.
        settings = replace(settings, upstream_page_size=emulator_app.state.emulator.page_size)
    if not settings.cors_origins:
        # GraphiQL is served by the gateway itself; allow it under both loopback names.
        origins = (f"http://127.0.0.1:{settings.port}", f"http://localhost:{settings.port}")
        settings = replace(settings, cors_origins=origins)
    servers: list[uvicorn.Server] = [
        _QuietServer(
            uvicorn.Config(emulator_app, host="127.0.0.1", port=emulator_port, log_level="warning")
        ),
        _QuietServer(server_config(create_app(settings), settings, log_level="warning")),
    ]
    _tune_gc()
    with _stop_on_signals(servers):
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                for server in servers:
                    server.should_exit = True
                await asyncio.gather(*tasks, return_exceptions=True)
                print("could not start: is a port already in use?", file=sys.stderr)
                return 1
            await asyncio.sleep(0.05)
        _print_banner(settings, emulator_port, emulator_app.state.emulator)
        await asyncio.gather(*tasks)
    return 0


class _QuietServer(uvicorn.Server):
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


def _print_banner(settings: Settings, emulator_port: int, state: EmulatorState) -> None:
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
    lines = [
        "",
        f"  GraphQL + GraphiQL  http://{host}:{settings.port}/graphql",
        f"  ChargEye emulator   http://127.0.0.1:{emulator_port}",
        "",
        '  Demo bearer tokens (GraphiQL: Headers tab, {"Authorization": "Bearer <token>"}):',
    ]
    for tenant in state.tenants:
        token = state.access_tokens[tenant.id]
        lines.append(f"    {tenant.name} (tenant {tenant.id}):")
        lines.append(f"      {token}")
    lines += ["", "  Ctrl-C stops both.", ""]
    print("\n".join(lines), flush=True)
