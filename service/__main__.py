"""Command line: ``python -m service serve|keys|sites|retrain|purge|privacy|models``."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from service import cli, maintenance
from service.app import create_app
from service.dashboard import cli as dashboard_cli
from service.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Several workers: uvicorn's supervisor starts each from the import string, and every
    # worker builds its own app from the same SLUICE_* environment (see docker/README-deploy.md).
    workers = settings.workers
    uvicorn.run(
        "service.app:create_app" if workers > 1 else create_app(settings),
        factory=workers > 1,
        workers=workers,
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
