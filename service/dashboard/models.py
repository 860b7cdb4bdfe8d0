"""Model versions: their cards and evaluation reports, which one is current, promote, roll back.

Promotion goes through the same check as ``python -m service models promote``: the version
must load with ``artifacts.load_model`` (checksum and library versions verified against its
card) before the registry pointer moves; the running service then swaps it in at once
(other workers follow on their next reload poll). A version whose champion/challenger gate
failed is promoted only when the admin ticks "promote anyway", like ``--force`` in training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import FileResponse, Response

from service.dashboard.web import (
    AdminDep,
    BadForm,
    FormDep,
    PageNotFound,
    UserDep,
    base_path,
    make_router,
    moderation_of,
    redirect,
    render,
)
from training import artifacts
from training.artifacts import ModelRejected

router = make_router()
PLOTS = {
    "precision_recall.png": "Precision–recall curve on the held-out rows",
    "score_distribution.png": "Score distributions of held-out ham and spam",
    "confusion.png": "Confusion matrix at the chosen cut-offs",
}
REPORT_FILE = "report.md"
MAX_REPORT_CHARS = 200_000
VersionParam = Annotated[str, PathParam(min_length=1, max_length=128)]


def registry(request: Request) -> Path:
    return Path(moderation_of(request).models.models_dir)


def known_version(request: Request, version: str) -> Path:
    """The version's directory; only names the registry lists (no path tricks)."""
    if version not in artifacts.list_versions(registry(request)):
        raise PageNotFound(f"There is no model version {version!r}.")
    return registry(request) / version


def summary(directory: Path) -> dict[str, Any]:
    try:
        card = artifacts.read_card(directory)
    except ModelRejected as exc:
        return {"version": directory.name, "error": str(exc)}
    evaluation = card.get("evaluation", {})
    return {
        "version": card.get("version", directory.name),
        "created_at": card.get("created_at", ""),
        "held_out": evaluation.get("held_out", {}),
        "cutoffs": card.get("cutoffs", {}),
        "gate": card.get("gate", {}),
        "params": card.get("params", {}),
        "data": card.get("data", {}),
        "libraries": card.get("libraries", {}),
        "training_seconds": card.get("training_seconds"),
        "plots": [(name, text) for name, text in PLOTS.items() if (directory / name).is_file()],
        "error": None,
    }


def registry_view(request: Request) -> dict[str, Any]:
    models_dir = registry(request)
    holder = moderation_of(request).models
    versions = list(reversed(artifacts.list_versions(models_dir)))
    return {
        "versions": [summary(models_dir / v) for v in versions],
        "current": artifacts.current_version(models_dir),
        "previous": artifacts.previous_version(models_dir),
        "served": holder.scorer.version if holder.scorer else None,
        "last_error": holder.last_error,
    }


@router.get("/models")
def read_models(request: Request, signed: UserDep) -> Response:
    """Every model version with its held-out metrics; which one is current."""
    return render(request, "models.html", signed=signed, nav="models", **registry_view(request))


@router.get("/models/{version}")
def read_model(request: Request, signed: UserDep, version: VersionParam) -> Response:
    """One version's card and evaluation report."""
    directory = known_version(request, version)
    report_path = directory / REPORT_FILE
    report = (
        report_path.read_text(encoding="utf-8")[:MAX_REPORT_CHARS] if report_path.is_file() else ""
    )
    view = registry_view(request)
    return render(
        request,
        "model.html",
        signed=signed,
        nav="models",
        model=summary(directory),
        report=report,
        current=view["current"],
        previous=view["previous"],
        served=view["served"],
    )


@router.get("/models/{version}/plots/{name}")
def read_plot(request: Request, signed: UserDep, version: VersionParam, name: str) -> Response:
    """An evaluation plot, straight from the registry directory."""
    if name not in PLOTS:
        raise PageNotFound("There is no such plot.")
    path = known_version(request, version) / name
    if not path.is_file():
        raise PageNotFound("This version has no such plot.")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private"})


def _activate(request: Request, version: str) -> None:
    """Verify ``version`` like the CLI does, point the registry at it and serve it now."""
    directory = known_version(request, version)
    try:
        artifacts.load_model(directory)  # refuse what the service would refuse
    except ModelRejected as exc:
        raise BadForm(f"Model {version} was refused: {exc}") from exc
    artifacts.set_current(registry(request), version)
    moderation_of(request).models.refresh(version)


@router.post("/models/promote")
def promote_model(request: Request, signed: AdminDep, form: FormDep) -> Response:
    """Make a version current after verifying it."""
    version = form.get("version")
    directory = known_version(request, version)
    gate = summary(directory).get("gate") or {}
    if gate and not gate.get("passed") and form.get("force") != "yes":
        raise BadForm(
            f"Model {version} failed its promotion gate ({gate.get('reason', 'no reason')}); "
            "tick 'promote anyway' to override."
        )
    _activate(request, version)
    return redirect(f"{base_path(request)}/models", msg="promoted", v=version)


@router.post("/models/rollback")
def roll_back_model(request: Request, signed: AdminDep, form: FormDep) -> Response:
    """Go back to the version that was current before this one."""
    previous = artifacts.previous_version(registry(request))
    if previous is None:
        raise BadForm("There is no earlier model to roll back to.")
    _activate(request, previous)
    return redirect(f"{base_path(request)}/models", msg="rolled_back", v=previous)
