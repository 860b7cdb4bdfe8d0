"""Logging, configured once: a request id on every line, text or JSON, no personal data.

``REQUEST_ID`` is set by ``service.edge.RequestContext`` for the duration of a request; a
log record factory copies it into every record as ``record.request_id`` (``-`` outside a
request), so it reaches every handler, including ones added later (pytest's ``caplog``).

What is never logged, by convention enforced in review and by ``tests/hardening``: comment
text, e-mail addresses, IP addresses, API keys, the admin token and passwords. Log ids and
counts instead (a check id, a site id, a number of items).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str] = ContextVar("sluice_request_id", default="-")
# Facts domain code learns during a request (site id, verdict) for its access-log line; a
# mutable dict so that code running in the thread pool can add to it.
REQUEST_FACTS: ContextVar[dict[str, Any] | None] = ContextVar("sluice_request_facts", default=None)


def note_request(**facts: Any) -> None:
    """Add ids and outcomes (never personal data) to the current request's access-log line."""
    current = REQUEST_FACTS.get()
    if current is not None:
        current.update(facts)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_factory_installed = False


def install_record_factory() -> None:
    """Give every log record a ``request_id`` attribute (idempotent)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, process id (which worker), request id,
    message (and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger of a server process: ``serve`` with one worker, else the
    supervisor and each worker (``service.workers``), which are started afresh and inherit
    nothing. Idempotent: the root logger ends with this one handler however often it runs.
    uvicorn's own loggers are left without handlers (``log_config=None``), so their lines
    come here too, in the same format."""
    install_record_factory()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # a library's warning is a log line too, in the same format
