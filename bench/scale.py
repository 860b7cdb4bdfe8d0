"""Scale: the out-of-core training path's cost, and serving capacity per core and per worker.

    .venv/bin/python -m bench.scale                       # compare on the corpora, 100k, 1M
    .venv/bin/python -m bench.scale --sizes 100k,1M,10M   # add a simulated 10M (hours)
    .venv/bin/python -m bench.scale --skip-compare --sizes 100k
    .venv/bin/python -m bench.scale --compare-on 100k --sizes ""  # both trainers on 100k

Two measurements, each training in its own process (``python -m training train``) so that
its wall time and peak resident memory (``ru_maxrss`` from ``os.wait4``) are its own:

1. Accuracy cost: the in-memory and the out-of-core path on the same data (the authored
   corpus and the public corpora), held-out metrics read from each model's card. Both use
   the same held-out rows (a hash of each duplicate group).
2. Scale: the out-of-core path on simulated exports of N comments. They are synthesised by
   sampling the corpora's rows with replacement and perturbing each copy lightly (a word
   dropped or repeated, case changed, a number or a punctuation mark added), keeping the
   original's duplicate group so that near-copies never straddle the held-out split. They are
   simulated, not real: real exports have more distinct text (bigger vocabularies, which the
   hashing bounds anyway) and their own label noise.

3. Serving (``--serving uvicorn:1,uvicorn:2[,gunicorn:2]``, with ``--models-dir`` and one
   or more ``--database-url``: ``sqlite`` for a fresh SQLite file, the default, or a
   PostgreSQL URL): each setup serves ``python -m service serve`` (gunicorn with uvicorn
   workers for comparison, if installed), wrk loads ``POST /v1/comments/check`` with the
   authored corpus's comments and their metadata in turn (``--comments authored``, the
   default) or one metadata-rich comment again and again (``--comments one``, as the first
   measurements; the scorer's word cache then always hits), and the figures are requests
   per CPU-second of the service's
   processes (what one fully used core serves, which holds on a shared machine) and the
   resident memory of the supervisor, each worker (once ready, and after the load) and any
   other process (multiprocessing's resource tracker).

Prints a Markdown table; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.__main__ import DEFAULT_WEIGHTS
from training.data import available_public, load_authored, load_public
from training.features import COMMENT_FIELDS

ROOT = Path(__file__).resolve().parent.parent

KEYS = ("roc_auc", "pr_auc", "mcc", "blocked_ham", "recall", "recall_at_fpr_0.005")


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def base_frame() -> pd.DataFrame:
    frames = [load_authored(weight=DEFAULT_WEIGHTS["authored"])]
    frames += [load_public(name, weight=DEFAULT_WEIGHTS[name]) for name in available_public()]
    return pd.concat(frames, ignore_index=True)[[*COMMENT_FIELDS, "label", "group", "weight"]]


_EXTRA = np.array(["!", "?", "...", " :)", " 2", " 10", " ok", " pls", " now", " thx"])


def _perturb(texts: np.ndarray, rng: np.random.Generator) -> list[str]:
    out = []
    kinds = rng.integers(0, 5, size=len(texts))
    extra = _EXTRA[rng.integers(0, len(_EXTRA), size=len(texts))]
    for text, kind, tail in zip(texts, kinds, extra, strict=True):
        words = text.split(" ")
        if kind == 0 and len(words) > 3:
            del words[int(rng.integers(len(words)))]
        elif kind == 1:
            i = int(rng.integers(len(words)))
            words.insert(i, words[i])
        elif kind == 2:
            i = int(rng.integers(len(words)))
            words[i] = words[i].upper() if words[i].islower() else words[i].lower()
        out.append(" ".join(words) + (tail if kind in (3, 4) else ""))
    return out


def synthesise(base: pd.DataFrame, rows: int, path: Path, *, seed: int = 0) -> None:
    """Write ``rows`` perturbed samples of ``base`` to a CSV, 100k rows at a time."""
    rng = np.random.default_rng(seed)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        while written < rows:
            n = min(100_000, rows - written)
            sample = base.iloc[rng.integers(0, len(base), size=n)].copy()
            sample["content"] = _perturb(sample["content"].to_numpy(), rng)
            sample["label"] = np.where(sample["label"] == 1, "spam", "ham")
            sample.to_csv(handle, index=False, header=written == 0)
            written += n


def measure(argv: list[str]) -> dict[str, Any]:
    """Run ``python -m training ...`` in a child; wall seconds and its peak RSS in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(  # nosec B603 # this Python, argv built by the benchmark
        [sys.executable, "-m", "training", "-q", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode not in (0, 3):  # 3: trained but not promoted by the gate
        raise RuntimeError(f"training failed ({process.returncode}):\n{output}")
    # ru_maxrss is in KiB on Linux.
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def latest_card(models_dir: Path) -> dict[str, Any]:
    versions = sorted(p for p in models_dir.iterdir() if (p / "card.json").is_file())
    card: dict[str, Any] = json.loads((versions[-1] / "card.json").read_text())
    return card


def compare(work: Path, size: int | None = None) -> list[dict[str, Any]]:
    """Both trainers on the corpora, or on a simulated export of ``size`` comments."""
    data: list[str] = []
    if size:
        path = work / f"compare-{size}.csv"
        synthesise(base_frame(), size, path)
        data = ["--no-default-data", "--data", str(path)]
    rows = []
    for label, extra in (("in-memory", []), ("out-of-core", ["--out-of-core"])):
        models = work / f"compare-{label}"
        figures = measure(["train", "--models-dir", str(models), *data, *extra])
        card = latest_card(models)
        held = card["evaluation"]["held_out"]
        rows.append(
            {
                "path": label,
                "rows": card["data"]["rows"],
                "held_out": held["n"],
                **figures,
                **{k: round(held[k], 4) for k in KEYS},
            }
        )
    return rows


def scale(work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    base = base_frame()
    rows = []
    for size in sizes:
        data = work / f"synthetic-{size}.csv"
        started = time.perf_counter()
        synthesise(base, size, data)
        made = time.perf_counter() - started
        models = work / f"scale-{size}"
        figures = measure(
            [
                "train",
                "--out-of-core",
                "--no-default-data",
                "--data",
                str(data),
                "--models-dir",
                str(models),
            ]
        )
        card = latest_card(models)
        held = card["evaluation"]["held_out"]
        rows.append(
            {
                "comments": size,
                "file_mib": round(data.stat().st_size / 2**20, 1),
                "synthesis_seconds": round(made, 1),
                "epochs": card["params"]["epochs"],
                **figures,
                "comments_per_second": round(size / figures["seconds"]),
                **{k: round(held[k], 4) for k in ("roc_auc", "recall_at_fpr_0.005")},
            }
        )
        data.unlink()
        print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


# --- serving: requests per core and memory per worker -----------------------------------------

PAYLOAD = {
    "content": "Thanks for the detailed write-up! I tried the second approach on our staging "
    "server and it cut the build time in half. Do you know if it also works with the older "
    "release? See https://example.org/notes for what we changed.",
    "author_name": "Dana Whitfield",
    "author_email": "dana.whitfield@example.org",
    "author_url": "https://dana.example.org",
    "user_ip": "198.51.100.23",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "permalink": "https://blog.example/2026/05/faster-builds/",
    "referrer": "https://blog.example/2026/05/faster-builds/",
}


def _bodies(comments: str) -> list[str]:
    """JSON bodies: ``one`` comment, or the ``authored`` corpus shuffled (seed 0)."""
    if comments == "one":
        return [json.dumps(PAYLOAD)]
    frame = load_authored().sample(frac=1, random_state=0)
    fields = [f for f in COMMENT_FIELDS if f in frame.columns]
    return [
        json.dumps({f: row[f] for f in fields if isinstance(row[f], str) and row[f]})
        for row in frame[fields].to_dict("records")
    ]


def _group_processes(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            pids.append(int(entry.name))
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def _role(pid: int, supervisor: int) -> str:
    """``supervisor``, ``worker`` or ``other`` (multiprocessing's resource tracker)."""
    if pid == supervisor:
        return "supervisor"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    return "other" if b"resource_tracker" in cmdline else "worker"


def _rss_by_role(pids: list[int], server: int, kind: str, workers: int) -> dict[str, list[int]]:
    """Resident MiB of each process, by role (``serve`` with one worker is that worker)."""
    rss: dict[str, list[int]] = {}
    for pid in sorted(pids):
        role = "worker" if workers == 1 and kind == "uvicorn" else _role(pid, server)
        rss.setdefault(role, []).append(round(_rss_mib(pid)))
    return rss


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    done = subprocess.run(  # nosec B603 B607 # wrk from PATH, fixed arguments, no shell
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            figures["requests"] = float(words[0])
        elif line.strip().startswith(("50%", "99%")):
            value = words[1]
            scale_to_ms = {"us": 0.001, "ms": 1.0, "s": 1000.0}
            unit = next(u for u in ("us", "ms", "s") if value.endswith(u))
            figures[f"p{words[0][:-1]}_ms"] = float(value[: -len(unit)]) * scale_to_ms[unit]
        elif line.startswith("  Non-2xx"):
            figures["non_2xx"] = float(words[-1])
    return figures


def serving(
    work: Path,
    *,
    database_url: str,
    models_dir: Path,
    setups: list[str],
    seconds: int,
    comments: str = "authored",
) -> list[dict[str, Any]]:
    """Serve with each setup, load it with wrk, and divide requests by the CPU it burnt.

    Requests per CPU-second of the service's own processes is what one fully used core
    serves; unlike requests per wall second it holds on a machine shared with other work.
    PostgreSQL's CPU (the checks' inserts) is not in it. ``database_url`` ``sqlite`` means a
    fresh SQLite file in ``work``.
    """
    from service.storage import Storage, upgrade

    if database_url == "sqlite":
        database_url = f"sqlite:///{work / 'sizing.sqlite3'}"
    database = database_url.split(":", 1)[0].split("+", 1)[0]
    upgrade(database_url)
    secret = "bench-secret"  # nosec B105 # a throw-away benchmark database's HMAC secret
    storage = Storage(database_url, secret=secret)
    site = storage.create_site(url=f"https://bench-{time.time_ns()}.example")
    key = storage.create_key(site_id=site.id)[1]
    storage.close()
    from bench.speed import wrk_script

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    script = wrk_script(work / "check.lua", _bodies(comments), headers)
    rows = []
    for setup in setups:
        kind, _, workers_text = setup.partition(":")
        workers = int(workers_text or 1)
        port = _free_port()
        env = {
            **os.environ,
            "SLUICE_DATABASE_URL": database_url,
            "SLUICE_SECRET_KEY": secret,
            "SLUICE_MODELS_DIR": str(models_dir),
            "SLUICE_MIGRATE_ON_START": "false",
            "SLUICE_RATE_LIMIT_KEY_PER_MINUTE": "0",
            "SLUICE_RATE_LIMIT_IP_PER_MINUTE": "0",
            "SLUICE_FLOOD_THRESHOLD": "0",
            "SLUICE_LOG_LEVEL": "WARNING",
            "SLUICE_HOST": "127.0.0.1",
            "SLUICE_PORT": str(port),
            "SLUICE_WORKERS": str(workers),
        }
        if kind == "uvicorn":
            argv = [sys.executable, "-m", "service", "serve"]
        elif kind == "gunicorn":  # for comparison; gunicorn is not a dependency
            argv = [sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker"]
            argv += ["-w", str(workers), "-b", f"127.0.0.1:{port}", "service.app:create_app()"]
        else:
            raise SystemExit(f"unknown setup {setup!r}: uvicorn:N or gunicorn:N")
        server = subprocess.Popen(  # nosec B603 # server argv built here from --setup, no shell
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}/v1/comments/check"
        try:
            _wait_ready(f"http://127.0.0.1:{port}/readyz", server)
            time.sleep(2)  # one worker answered; let the others finish loading the model
            ready = _rss_by_role(_group_processes(server.pid), server.pid, kind, workers)
            _wrk(url, script, 3, 4 * workers)  # warm-up
            pids = _group_processes(server.pid)
            load_average = os.getloadavg()[0]
            cpu_before, started = _cpu_seconds(pids), time.perf_counter()
            figures = _wrk(url, script, seconds, 8 * workers)
            wall = time.perf_counter() - started
            cpu = _cpu_seconds(pids) - cpu_before
            rss = _rss_by_role(pids, server.pid, kind, workers)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        rows.append(
            {
                "setup": f"{kind}, {workers} worker{'s' * (workers > 1)}",
                "database": database,
                "comments": comments,
                "load_average_before": round(load_average, 1),
                "requests": int(figures["requests"]),
                "non_2xx": int(figures.get("non_2xx", 0)),
                "requests_per_wall_second": round(figures["requests"] / wall),
                "cpu_seconds": round(cpu, 1),
                "requests_per_cpu_second": round(figures["requests"] / cpu),
                "p50_ms": figures.get("p50_ms"),
                "p99_ms": figures.get("p99_ms"),
                # The supervisor (or gunicorn's master) holds no model.
                "rss_mib_worker_ready": ready.get("worker", []),
                "rss_mib_worker": rss.get("worker", []),
                "rss_mib_supervisor": rss.get("supervisor", []),
                "rss_mib_other": rss.get("other", []),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not get ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="simulated export sizes")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument(
        "--compare-on", metavar="SIZE", help="compare on a simulated export (e.g. 100k)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--work-dir", type=Path, help="keep data and models here")
    parser.add_argument(
        "--serving",
        metavar="SETUPS",
        help="instead: requests per core and memory per worker, e.g. uvicorn:1,uvicorn:2",
    )
    parser.add_argument(
        "--database-url",
        action="append",
        help="for --serving, repeatable: 'sqlite' (a fresh file; the default) or a PostgreSQL "
        "URL (migrated here)",
    )
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--seconds", type=int, default=15, help="wrk run per setup")
    parser.add_argument(
        "--comments",
        choices=("authored", "one"),
        default="authored",
        help="for --serving: the authored corpus in turn, or one comment again and again",
    )
    args = parser.parse_args()
    if args.serving:
        rows = []
        for database_url in args.database_url or ["sqlite"]:
            with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
                rows += serving(
                    Path(tmp),
                    database_url=database_url,
                    models_dir=args.models_dir.resolve(),
                    setups=args.serving.split(","),
                    seconds=args.seconds,
                    comments=args.comments,
                )
        print(f"\n## Serving (load average {os.getloadavg()[0]:.1f})\n")
        print(table(rows))
        if args.json:
            args.json.write_text(json.dumps({"serving": rows}, indent=2) + "\n")
        return 0
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        work = Path(tmp)
        result: dict[str, Any] = {
            "cpu": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "rlimit_as": resource.getrlimit(resource.RLIMIT_AS),
        }
        if not args.skip_compare:
            result["compare"] = compare(
                work, parse_size(args.compare_on) if args.compare_on else None
            )
            print("## Accuracy cost (same data, same held-out rows)\n")
            print(table(result["compare"]), flush=True)
        result["scale"] = scale(work, sizes)
        print("\n## Out-of-core at scale (simulated exports)\n")
        print(table(result["scale"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
