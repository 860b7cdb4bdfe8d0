"""Command line: ``python -m service serve|keys|sites|retrain|purge|privacy|models``."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from service import cli, maintenance, workers
from service.app import create_app
from service.dashboard import cli as dashboard_cli
from service.logs import configure_logging
from service.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if settings.workers > 1:
        # Several workers: a small supervisor, started afresh (this process has imported the
        # whole service, some 270 MB the supervisor would hold for nothing), starts each
        # worker; every worker builds its app from the same SLUICE_* environment.
        argv = workers.command(settings)
        os.execv(argv[0], argv)  # nosec B606 # our own interpreter and module, no shell
    configure_logging(settings.log_level, settings.log_format)  # request id on every line
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # uvicorn's lines go through the handler configured above
        log_level=settings.log_level.lower(),
        access_log=False,  # one access line per request comes from the app, without the IP
        loop="uvloop",
        http="httptools",
        ws="none",  # no WebSocket routes; uvicorn would log the client address of a refusal
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
