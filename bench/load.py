"""A bounded load test: a steady rate on both check endpoints, a model promoted half-way.

    python -m bench.load [--duration 60] [--rate 50] [--warmup 10] [--max-rss-growth-mib M]

Starts the real service (``python -m service serve``) on a free 127.0.0.1 port with a fresh
SQLite database and a copy of the model registry, creates a site and key with the operator
command (``python -m service keys create``), then sends comments from the authored corpus at a
constant arrival rate, alternating ``POST /v1/comments/check`` (JSON) and
``POST /1.1/comment-check`` (Akismet form). Half-way through the measured part it runs
``python -m service models promote`` so the server hot-reloads another version while the load
continues. It stops by itself after ``--warmup + --duration`` seconds plus the time to drain.

The load is open-loop: request *i* is due at ``start + i / rate`` whether or not earlier ones
have answered, and its latency is counted from that due time, so a stalled server shows up as
latency instead of silently lowering the rate (no coordinated omission).

Exits 1 when any request failed (non-200, transport error, or an answer that is not a verdict),
when the served model version did not change after the promotion, or when the server's resident
memory grew by more than the bound between the end of the warm-up and the end of the run.
Writes ``load.md`` and ``load.json`` to the reports directory and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvloop

from bench.common import (
    REPORTS_DIR,
    facts_markdown,
    md_table,
    run_facts,
    stop_server,
    text_table,
)
from bench.speed import SECRET, SITE_URL, _bodies, _free_port, resolve_model
from training import artifacts
from training.data import REPO_ROOT, load_authored, to_records

log = logging.getLogger("bench.load")

ENDPOINTS = ("POST /v1/comments/check", "POST /1.1/comment-check")
JSON_VERDICTS = frozenset({"ham", "unsure", "spam", "discard"})
START_TIMEOUT = 90.0
RELOAD_POLL_SECONDS = 1.0  # SLUICE_MODEL_RELOAD_SECONDS for the served process
# Resident-memory growth allowed between the end of the warm-up and the end of the run, from
# measurements (bench/README.md): the promotion loads the new model beside the old one (the
# default model takes about 38 MiB loaded; the server's RSS stepped up 43-49 MiB at the swap,
# once: further reloads reuse the freed memory), and the in-memory flood counters keep about
# 4.4 KiB per distinct comment for their window (SLUICE_FLOOD_WINDOW_SECONDS, 600 s by default),
# about 5.5 KiB of RSS per request. A leak of more than a few KiB per request fails the run.
RELOAD_ALLOWANCE_MIB = 60.0
PER_REQUEST_ALLOWANCE_KIB = 8.0


def rss_growth_bound_mib(requests: int) -> float:
    return RELOAD_ALLOWANCE_MIB + PER_REQUEST_ALLOWANCE_KIB * requests / 1024


# ------------------------------------------------------------------------------ the server


def _tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers when there are several)."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue += [int(child) for child in task.read_text().split()]
    return pids


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process, from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """The ``python -m service serve`` process under load, in its own process group."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_bytes(self) -> int:
        """Resident memory of the server's whole process tree."""
        total = 0
        for pid in _tree_pids(self.process.pid):
            with contextlib.suppress(OSError):
                total += _rss_bytes(pid)
        return total

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in _tree_pids(self.process.pid):
            with contextlib.suppress(OSError):
                total += _cpu_seconds(pid)
        return total

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""


def service_environment(workdir: Path, registry: Path, rate: float, workers: int) -> dict[str, str]:
    """``SLUICE_*`` settings for the served process and the operator commands.

    Rate limits stay on, set to four times the offered load, so the limiter is part of the
    measured path without refusing the load (one key from one address sends everything).
    """
    per_minute = str(max(60, round(rate * 60 * 4)))
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONUNBUFFERED": "1",
        "SLUICE_HOST": "127.0.0.1",
        "SLUICE_PORT": str(_free_port()),
        "SLUICE_WORKERS": str(workers),
        "SLUICE_MODELS_DIR": str(registry),
        "SLUICE_DATA_DIR": str(workdir / "data"),
        "SLUICE_SECRET_KEY": SECRET,
        "SLUICE_MODEL_RELOAD_SECONDS": str(RELOAD_POLL_SECONDS),
        "SLUICE_LOG_LEVEL": "WARNING",
        "SLUICE_RATE_LIMIT_KEY_PER_MINUTE": per_minute,
        "SLUICE_RATE_LIMIT_IP_PER_MINUTE": per_minute,
    }


def prepare_registry(source_model: Path, target: Path) -> tuple[str, str]:
    """A registry in ``target`` holding the source model twice: (current, the one to promote).

    The second is the same artifact under another version name (its card says so), so the
    promotion makes the server verify, unpickle and swap in a separately loaded model, and the
    version it reports shows which one answered.
    """
    before = source_model.name
    after = f"{before}-reloaded"
    for version in (before, after):
        shutil.copytree(source_model, target / version)
        card_path = target / version / artifacts.CARD_FILE
        card = json.loads(card_path.read_text(encoding="utf-8"))
        card["version"] = version
        card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    artifacts.set_current(target, before)
    return before, after


def operator_command(env: Mapping[str, str], *argv: str) -> str:
    """``python -m service ARGV`` as an operator runs it; its standard output."""
    done = subprocess.run(  # nosec B603 # this Python running our own CLI, no shell
        [sys.executable, "-m", "service", *argv],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m service {' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


@contextlib.contextmanager
def served(env: Mapping[str, str], workdir: Path) -> Iterator[Server]:
    """The service started with ``env``; its whole process group is stopped at the end."""
    log_path = workdir / "server.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(  # nosec B603 # this Python serving, fixed argv, no shell
            [sys.executable, "-m", "service", "serve"],
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process=process, port=int(env["SLUICE_PORT"]), log_path=log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready in {START_TIMEOUT:g} s")
            time.sleep(0.2)
        yield server
    finally:
        stop_server(process)


# -------------------------------------------------------------------------------- the load


@dataclass(slots=True)
class Outcome:
    """One request: when it was due, when it was sent and answered (seconds from the start)."""

    endpoint: int  # index into ENDPOINTS
    due: float
    sent: float
    done: float
    status: int  # -1 for a transport error
    error: str | None = None
    version: str | None = None

    @property
    def latency(self) -> float:
        return self.done - self.due


@dataclass
class Plan:
    rate: float  # requests per second, both endpoints together
    warmup: float
    duration: float
    reload_at: float  # seconds into the measured part
    timeout: float
    # "command": `python -m service models promote` as an operator runs it (an interpreter
    # start and the model's verification: seconds, many on a busy machine); "pointer": write
    # models/CURRENT from this process at once, for a swap at a predictable time.
    promote_with: str = "command"


@dataclass
class Observed:
    outcomes: list[Outcome] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bytes) every second
    rss_before: int = 0
    rss_after: int = 0
    cpu_before: float = 0.0
    cpu_after: float = 0.0
    promoted_at: float | None = None  # the promote command started
    pointer_written_at: float | None = None  # it finished: models/CURRENT names the new version
    promote_error: str | None = None
    ready_version_after: str | None = None
    seconds: float = 0.0


def load_comments(seed: int = 0) -> list[dict[str, str]]:
    """The authored corpus's comments with their metadata, shuffled (empty fields left out)."""
    records = [{k: v for k, v in r.items() if v} for r in to_records(load_authored())]
    random.Random(seed).shuffle(records)  # nosec B311 # reproducible load order, not security
    return records


def _judge(endpoint: int, response: httpx.Response) -> tuple[str | None, str | None]:
    """(error, model version) of one answer; an answer that is not a verdict is an error."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:120]}", None
    if endpoint == 0:
        try:
            body = response.json()
        except ValueError:
            return "the JSON endpoint answered something that is not JSON", None
        if body.get("verdict") not in JSON_VERDICTS:
            return f"no verdict in {str(body)[:120]}", None
        return None, body.get("model_version")
    if response.text not in ("true", "false"):
        return f"Akismet answer {response.text[:40]!r}", None
    return None, None


async def drive(
    server: Server, env: Mapping[str, str], key: str, plan: Plan, new_version: str
) -> Observed:
    """Send the whole load, promote ``new_version`` on time, and sample memory every second."""
    records = load_comments()
    json_bodies, form_bodies = _bodies(records, key)
    headers = (
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    urls = (f"{server.url}/v1/comments/check", f"{server.url}/1.1/comment-check")
    observed = Observed()
    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive closes them, so a
    # request is never written to a connection the server is closing (a client-side error).
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=2.0)
    async with httpx.AsyncClient(limits=limits, timeout=plan.timeout) as client:
        # perf_counter, not the loop's clock: uvloop's clock counts whole milliseconds.
        start = time.perf_counter()

        def now() -> float:
            return time.perf_counter() - start

        async def one(i: int, due: float) -> None:
            endpoint = i % 2
            comment = (i // 2) % len(records)
            body = json_bodies[comment] if endpoint == 0 else form_bodies[comment]
            sent = now()
            try:
                response = await client.post(
                    urls[endpoint], content=body, headers=headers[endpoint]
                )
                error, version = _judge(endpoint, response)
                status = response.status_code
            except httpx.HTTPError as exc:
                error, version, status = f"{type(exc).__name__}: {exc}"[:160], None, -1
            observed.outcomes.append(Outcome(endpoint, due, sent, now(), status, error, version))

        async def promote() -> None:
            await asyncio.sleep(max(0.0, plan.warmup + plan.reload_at - now()))
            observed.promoted_at = now()
            if plan.promote_with == "pointer":
                registry = Path(env["SLUICE_MODELS_DIR"])
                await asyncio.to_thread(artifacts.set_current, registry, new_version)
                observed.pointer_written_at = now()
                return
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "service", "models", "promote", new_version,
                cwd=REPO_ROOT, env=dict(env),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, stderr = await process.communicate()
            observed.pointer_written_at = now()
            if process.returncode != 0:
                observed.promote_error = stderr.decode(errors="replace").strip()[-300:]

        async def sample_memory() -> None:
            while True:
                observed.rss.append((now(), server.rss_bytes()))
                await asyncio.sleep(1.0)

        promoter = asyncio.create_task(promote())
        sampler = asyncio.create_task(sample_memory())
        in_flight: set[asyncio.Task[None]] = set()
        end = plan.warmup + plan.duration
        warm = False
        for i in range(int(end * plan.rate)):
            due = i / plan.rate
            if not warm and due >= plan.warmup:
                warm = True
                observed.rss_before = server.rss_bytes()
                observed.cpu_before = server.cpu_seconds()
            delay = due - now()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(i, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight)
        observed.seconds = now()
        observed.rss_after = server.rss_bytes()
        observed.cpu_after = server.cpu_seconds()
        sampler.cancel()
        await promoter
        ready = await client.get(f"{server.url}/readyz")
        observed.ready_version_after = ready.json().get("model", {}).get("version")
    return observed


# ----------------------------------------------------------------------------- the figures


def _percentiles_ms(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan")}
    values = np.array(latencies) * 1000
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
    }


def summarise(
    observed: Observed, plan: Plan, versions: tuple[str, str], max_rss_growth_mib: float | None
) -> dict[str, Any]:
    measured = [o for o in observed.outcomes if o.due >= plan.warmup]
    errors = [o for o in observed.outcomes if o.error]
    per_endpoint = {}
    for index, name in enumerate(ENDPOINTS):
        mine = [o for o in measured if o.endpoint == index]
        per_endpoint[name] = {
            "requests": len(mine),
            "errors": sum(1 for o in mine if o.error),
            **_percentiles_ms([o.latency for o in mine if not o.error]),
        }
    promoted, written = observed.promoted_at, observed.pointer_written_at
    answered = sorted((o for o in observed.outcomes if o.version), key=lambda o: o.done)
    before, after = versions
    first_new = next((o.done for o in answered if o.version == after), None)
    last_old = max((o.done for o in answered if o.version == before), default=None)
    # The swap: the server loads the new model in a thread (about a second of CPU, holding the
    # GIL much of it) just before its first answer.
    window = [
        o for o in measured if first_new is not None and first_new - 3 <= o.due < first_new + 2
    ]
    measured_span = max((o.done for o in measured), default=plan.warmup) - plan.warmup
    client = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "plan": asdict(plan),
        "requests": len(measured),
        "warmup_requests": len(observed.outcomes) - len(measured),
        "errors": len(errors),
        "error_examples": sorted({o.error for o in errors if o.error})[:5],
        "achieved_rate": len(measured) / measured_span if measured_span > 0 else 0.0,
        "send_lateness_p99_ms": float(
            np.percentile([(o.sent - o.due) * 1000 for o in measured], 99) if measured else 0
        ),
        "endpoints": per_endpoint,
        "during_reload": {"requests": len(window), **_percentiles_ms([o.latency for o in window])},
        "model": {
            "before": before,
            "after": after,
            "first_answer_version": answered[0].version if answered else None,
            "last_answer_version": answered[-1].version if answered else None,
            "served_after_run": observed.ready_version_after,
            "promoted_at_s": promoted,
            "pointer_written_at_s": written,
            "promote_error": observed.promote_error,
            "first_new_answer_s": first_new,
            "last_old_answer_s": last_old,
        },
        "memory": {
            "rss_before_mib": observed.rss_before / 2**20,
            "rss_after_mib": observed.rss_after / 2**20,
            "rss_growth_mib": (observed.rss_after - observed.rss_before) / 2**20,
            "rss_peak_mib": max((b for _, b in observed.rss), default=0) / 2**20,
            "bound_mib": rss_growth_bound_mib(len(measured))
            if max_rss_growth_mib is None
            else max_rss_growth_mib,
            "samples": [(round(t, 1), round(b / 2**20, 1)) for t, b in observed.rss],
        },
        "server_cpu_ms_per_request": 1000
        * (observed.cpu_after - observed.cpu_before)
        / max(1, len(measured)),
        "client_cpu_seconds": client.ru_utime + client.ru_stime,
        "seconds": observed.seconds,
        "load_average_at_end": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def failures(summary: Mapping[str, Any]) -> list[str]:
    """Why the run failed; empty when it passed."""
    problems = []
    if summary["errors"]:
        problems.append(
            f"{summary['errors']} failed requests, e.g. {'; '.join(summary['error_examples'])}"
        )
    model = summary["model"]
    if model["promote_error"]:
        problems.append(f"the promotion failed: {model['promote_error']}")
    if model["first_answer_version"] != model["before"]:
        problems.append(f"the first answers came from {model['first_answer_version']!r}")
    if (
        model["last_answer_version"] != model["after"]
        or model["served_after_run"] != model["after"]
    ):
        problems.append(
            f"the model was not reloaded: last answer from {model['last_answer_version']!r}, "
            f"/readyz says {model['served_after_run']!r}, expected {model['after']!r} "
            f"(`models promote` ran from {_s(model['promoted_at_s'])} to "
            f"{_s(model['pointer_written_at_s'])}; the load ended at "
            f"{_s(summary['plan']['warmup'] + summary['plan']['duration'])})"
        )
    growth, bound = summary["memory"]["rss_growth_mib"], summary["memory"]["bound_mib"]
    if growth > bound:
        problems.append(f"resident memory grew by {growth:.1f} MiB (bound {bound:.1f} MiB)")
    return problems


def run(
    plan: Plan,
    *,
    models_dir: Path | None = None,
    workers: int = 1,
    max_rss_growth_mib: float | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run facts, summary) of one bounded load run against a freshly started server."""
    _, source_model = resolve_model(models_dir)
    workdir = Path(tempfile.mkdtemp(prefix="sluice-load-"))
    try:
        registry = workdir / "models"
        versions = prepare_registry(source_model, registry)
        env = service_environment(workdir, registry, plan.rate, workers)
        created = operator_command(env, "keys", "create", "--site", SITE_URL, "--name", "Load")
        key = created.strip().splitlines()[-1]
        with served(env, workdir) as server:
            log.info(
                "%.0f req/s for %g s (+%g s warm-up), promoting %s at %g s",
                plan.rate, plan.duration, plan.warmup, versions[1], plan.reload_at,
            )  # fmt: skip
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                observed = runner.run(drive(server, env, key, plan, versions[1]))
        setup = {
            "workers": workers,
            "source_model": str(source_model),
            "flood_window_seconds": env.get("SLUICE_FLOOD_WINDOW_SECONDS", "600 (default)"),
            "rate_limit_per_minute": env["SLUICE_RATE_LIMIT_KEY_PER_MINUTE"],
        }
        return setup, summarise(observed, plan, versions, max_rss_growth_mib)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------ the report


def _ms(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:,.1f} ms"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def summary_rows(summary: Mapping[str, Any]) -> list[list[str]]:
    return [
        [
            name,
            f"{e['requests']:,}",
            str(e["errors"]),
            _ms(e["p50_ms"]),
            _ms(e["p95_ms"]),
            _ms(e["p99_ms"]),
            _ms(e.get("max_ms")),
        ]
        for name, e in summary["endpoints"].items()
    ]


HEADERS = ["endpoint", "requests", "errors", "p50", "p95", "p99", "max"]


def write_report(
    facts: Mapping[str, Any], setup: Mapping[str, Any], summary: Mapping[str, Any]
) -> str:
    plan, model, memory = summary["plan"], summary["model"], summary["memory"]
    problems = failures(summary)
    reload = summary["during_reload"]
    lines = [
        "# Bounded load test",
        "",
        facts_markdown(dict(facts)),
        f"- load average at end: {summary['load_average_at_end']}",
        f"- server workers: {setup['workers']}; flood window {setup['flood_window_seconds']} s; "
        f"rate limits {setup['rate_limit_per_minute']}/min per key and per IP",
        "",
        f"**{'PASSED' if not problems else 'FAILED'}**"
        + ("" if not problems else ": " + "; ".join(problems)),
        "",
        f"`python -m service serve` on 127.0.0.1 with a fresh SQLite database, rate limits set "
        f"to four times the load. Open-loop arrivals at {plan['rate']:g} requests/s in all, "
        f"alternating the JSON and the Akismet endpoint, comments from "
        f"`data/authored/comments.jsonl` with their metadata; {plan['warmup']:g} s of warm-up "
        f"(not in the latencies, but its errors count), then {plan['duration']:g} s measured. "
        "Latency runs from when a request was due, not when it was sent.",
        "",
        md_table(HEADERS, summary_rows(summary)),
        "",
        f"- requests measured: {summary['requests']:,} (+{summary['warmup_requests']:,} warm-up); "
        f"errors in all: {summary['errors']}",
        f"- achieved rate: {summary['achieved_rate']:.1f} req/s (offered {plan['rate']:g}); "
        f"send lateness p99 {summary['send_lateness_p99_ms']:.1f} ms",
        f"- around the swap (due from 3 s before the new model's first answer to 2 s after): "
        f"{reload['requests']} "
        f"requests, p50 {_ms(reload['p50_ms'])}, p99 {_ms(reload['p99_ms'])}, max "
        f"{_ms(reload.get('max_ms'))}",
        f"- model: {model['first_answer_version']} → {model['last_answer_version']} "
        f"(`/readyz` after the run: {model['served_after_run']}); "
        + (
            "`python -m service models promote` started at "
            if plan["promote_with"] == "command"
            else "this process began writing `models/CURRENT` at "
        )
        + f"{_s(model['promoted_at_s'])} and had written `models/CURRENT` at "
        f"{_s(model['pointer_written_at_s'])}; last answer from the old model at "
        f"{_s(model['last_old_answer_s'])}, first from the new at "
        f"{_s(model['first_new_answer_s'])} "
        f"(the server checks the pointer every {RELOAD_POLL_SECONDS:g} s)",
        f"- server resident memory: {memory['rss_before_mib']:.1f} MiB after the warm-up, "
        f"{memory['rss_after_mib']:.1f} MiB at the end (growth {memory['rss_growth_mib']:+.1f} "
        f"MiB, bound {memory['bound_mib']:.1f} MiB), peak {memory['rss_peak_mib']:.1f} MiB. "
        f"Unless given, the bound is {RELOAD_ALLOWANCE_MIB:g} MiB for the model loaded beside "
        f"the old one during the swap plus {PER_REQUEST_ALLOWANCE_KIB:g} KiB per measured "
        "request for the flood counters' window (see bench/README.md)",
        f"- server CPU: {summary['server_cpu_ms_per_request']:.2f} ms per measured request; "
        f"the load generator used {summary['client_cpu_seconds']:.1f} s of CPU in this process",
        "",
        "Resident memory every second (seconds from start, MiB): "
        + ", ".join(f"{t:g}: {m:g}" for t, m in memory["samples"]),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s, both endpoints")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument(
        "--reload-at", type=float, help="seconds into the measured part (default: half-way)"
    )
    parser.add_argument(
        "--promote-with",
        choices=("command", "pointer"),
        default="command",
        help="run `python -m service models promote` (default) or write models/CURRENT directly",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the server")
    parser.add_argument("--models-dir", type=Path, help="registry to take the current model from")
    parser.add_argument(
        "--max-rss-growth-mib",
        type=float,
        help=f"fail above this growth (default {RELOAD_ALLOWANCE_MIB:g} MiB + "
        f"{PER_REQUEST_ALLOWANCE_KIB:g} KiB per measured request)",
    )
    parser.add_argument("--report-dir", type=Path, default=REPORTS_DIR)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0:
        parser.error("--rate and --duration must be positive, --warmup not negative")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    facts = run_facts("python -m bench.load" + (" " + " ".join(argv or sys.argv[1:])).rstrip())
    plan = Plan(
        rate=args.rate,
        warmup=args.warmup,
        duration=args.duration,
        reload_at=args.duration / 2 if args.reload_at is None else args.reload_at,
        timeout=args.timeout,
        promote_with=args.promote_with,
    )
    setup, summary = run(
        plan,
        models_dir=args.models_dir,
        workers=args.workers,
        max_rss_growth_mib=args.max_rss_growth_mib,
    )
    args.report_dir.mkdir(parents=True, exist_ok=True)
    report = write_report(facts, setup, summary)
    (args.report_dir / "load.md").write_text(report, encoding="utf-8")
    (args.report_dir / "load.json").write_text(
        json.dumps({"facts": facts, "setup": setup, "summary": summary}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(text_table(HEADERS, summary_rows(summary)))
    problems = failures(summary)
    memory = summary["memory"]
    print(
        f"\nachieved {summary['achieved_rate']:.1f} req/s, errors {summary['errors']}, model "
        f"{summary['model']['first_answer_version']} -> {summary['model']['last_answer_version']}, "
        f"RSS {memory['rss_before_mib']:.1f} -> {memory['rss_after_mib']:.1f} MiB "
        f"(bound +{memory['bound_mib']:.1f})"
    )
    print(f"report: {args.report_dir / 'load.md'}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
