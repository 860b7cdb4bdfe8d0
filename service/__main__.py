"""Command line: ``python -m service serve|keys|sites|retrain|purge|privacy|models``."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from service import cli, maintenance
from service.app import create_app
from service.dashboard import cli as dashboard_cli
from service.logs import configure_logging
from service.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level, settings.log_format)  # request id on every line
    if settings.workers > 1:
        # Several workers: uvicorn's supervisor, started afresh (this process has imported the
        # whole service, some 270 MB the supervisor would hold for nothing), starts each worker
        # from the factory; every worker builds its app from the same SLUICE_* environment.
        # See docker/README-deploy.md.
        options = [f"--workers={settings.workers}", f"--host={settings.host}"]
        options += [f"--port={settings.port}", f"--log-level={settings.log_level.lower()}"]
        options += ["--no-access-log", "--loop=uvloop", "--http=httptools"]
        uvicorn_cli = [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory"]
        os.execv(sys.executable, [*uvicorn_cli, *options])
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    root = argparse.ArgumentParser(prog="python -m service")
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API (HOST, PORT, SLUICE_* settings)")
    serve.set_defaults(func=cmd_serve)
    cli.add_commands(sub)
    maintenance.add_commands(sub)
    dashboard_cli.add_commands(sub)
    args = root.parse_args(argv)
    return int(args.func(args, Settings()))


if __name__ == "__main__":
    sys.exit(main())
