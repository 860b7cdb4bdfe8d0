"""Several workers: uvicorn's supervisor, with all the workers' metrics on one port.

``python -m service serve`` with ``SLUICE_WORKERS`` > 1 replaces itself (``exec``) with
``python -m service.workers``, a fresh interpreter that imports uvicorn, prometheus-client
and the logging setup but not the service (about 30 MiB, where the process that read the
settings holds some 270 MiB it would keep for nothing). The supervisor:

* empties the prometheus-client multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``, or a
  temporary one, removed at exit) before any worker starts, so every worker writes its samples
  there (``service.observability``);
* binds the API socket once and starts the workers (uvicorn's ``Multiprocess``: a worker that
  dies or stops answering is replaced; ``SIGHUP`` restarts all, ``SIGTTIN``/``SIGTTOU`` add or
  remove one, ``SIGTERM`` stops gracefully); each builds its app with ``worker_app``;
* serves ``/metrics`` on ``--metrics-host:--metrics-port`` itself, merged from every worker's
  files at each scrape: the port is bound once, never by a worker;
* drops a gone worker's live gauges (``mark_process_dead``); its counts stay in the totals.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from service.logs import configure_logging
from service.observability import (
    merged_registry,
    reset_multiprocess_dir,
    serve_metrics,
    worker_gone,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from service.settings import Settings


def command(settings: Settings) -> list[str]:
    """The supervisor's command line for ``settings`` (read once, by ``serve``)."""
    argv = [sys.executable, "-m", "service.workers", f"--workers={settings.workers}"]
    argv += [f"--host={settings.host}", f"--port={settings.port}"]
    argv += [f"--log-level={settings.log_level}", f"--log-format={settings.log_format}"]
    if settings.metrics_port:
        argv += [f"--metrics-host={settings.metrics_host}"]
        argv += [f"--metrics-port={settings.metrics_port}"]
    return argv


def worker_app() -> FastAPI:
    """One worker's app (uvicorn's factory), from the same ``SLUICE_*`` environment."""
    # Imported here, in the worker: the supervisor never needs the service's code.
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(metrics_port=None)  # the supervisor serves that port for every worker
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also tells prometheus-client when a worker has gone."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self._known: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        # Runs every half second, after any signal was handled: a worker replaced because it
        # died, hung, or by SIGHUP/SIGTTOU is missing from the list by now.
        super().keep_subprocess_alive()
        current = {p.pid for p in self.processes if p.pid is not None}
        for pid in self._known - current:
            worker_gone(pid)
        self._known = current

    def failed_to_start(self) -> bool:
        """Whether a worker failed before serving (the app cannot start: no use retrying)."""
        return any(p.exitcode == STARTUP_FAILURE for p in self.processes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.workers")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--metrics-host", default="127.0.0.1")
    parser.add_argument("--metrics-port", type=int)
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)

    temporary = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        temporary = tempfile.mkdtemp(prefix="sluice-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = temporary  # inherited by every worker
    reset_multiprocess_dir(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    config = uvicorn.Config(
        "service.workers:worker_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,  # the workers' logging is ours (``worker_app``)
        log_level=args.log_level.lower(),
        access_log=False,  # one access line per request comes from the app, without the IP
        loop="uvloop",
        http="httptools",
        ws="none",  # no WebSocket routes; uvicorn would log the client address of a refusal
    )
    metrics_server = None
    try:
        listener = config.bind_socket()
        if args.metrics_port:
            registry = merged_registry(os.environ["PROMETHEUS_MULTIPROC_DIR"])
            metrics_server = serve_metrics(registry, args.metrics_host, args.metrics_port)
        supervisor = Supervisor(config, sockets=[listener])
        supervisor.run()
        if supervisor.failed_to_start():
            return STARTUP_FAILURE
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        if temporary is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(temporary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
