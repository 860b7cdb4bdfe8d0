"""Sites and API keys (administrators only): create sites, create and revoke keys, settings.

A new key's plaintext is in the one response that creates it (sent with ``no-store``) and
never again: only its hash and last four characters are stored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response

from service.dashboard.web import (
    AdminDep,
    BadForm,
    Form,
    FormDep,
    PageNotFound,
    Signed,
    base_path,
    dashboard_state,
    make_router,
    moderation_of,
    redirect,
    render,
)
from service.storage import CUTOFF_NAMES, InvalidValue, Site
from service.storage.site_settings import (
    FAIL_OPEN_VALUES,
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    STORE_PII_VALUES,
)

router = make_router()
SiteId = Annotated[int, Path(ge=1, le=2**31 - 1)]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _site(request: Request, site_id: int) -> Site:
    site = moderation_of(request).storage.get_site(site_id)
    if site is None:
        raise PageNotFound(f"There is no site {site_id}.")
    return site


def _site_page(
    request: Request,
    signed: Signed,
    site: Site,
    *,
    new_key: tuple[int, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    storage = moderation_of(request).storage
    model = moderation_of(request).models.scorer
    moderators = [
        u.username for u in dashboard_state(request).accounts.list_users() if site.id in u.site_ids
    ]
    return render(
        request,
        "site.html",
        signed=signed,
        nav="sites",
        status=status,
        site=site,
        keys=list(reversed(storage.list_keys(site_id=site.id))),
        new_key=new_key,
        errors=errors or [],
        model_cutoffs=model.cutoffs.as_dict() if model else None,
        cutoff_names=CUTOFF_NAMES,
        store_pii_values=STORE_PII_VALUES,
        fail_open_values=FAIL_OPEN_VALUES,
        min_retention=MIN_RETENTION_DAYS,
        max_retention=MAX_RETENTION_DAYS,
        moderators=moderators,
    )


def _sites_page(
    request: Request, signed: Signed, *, errors: list[str] | None = None, status: int = 200
) -> Response:
    storage = moderation_of(request).storage
    sites = storage.list_sites()
    keys = {s.id: storage.list_keys(site_id=s.id) for s in sites}
    return render(
        request,
        "sites.html",
        signed=signed,
        nav="sites",
        status=status,
        sites=sites,
        live_keys={i: sum(not k.is_revoked for k in ks) for i, ks in keys.items()},
        errors=errors or [],
    )


@router.get("/sites")
def read_sites(request: Request, signed: AdminDep) -> Response:
    """Every site, with a form to add one."""
    return _sites_page(request, signed)


@router.post("/sites")
def create_site(request: Request, signed: AdminDep, form: FormDep) -> Response:
    """Add a site."""
    url = form.get("url").strip()
    name = form.get("name").strip() or None
    if not url:
        return _sites_page(request, signed, errors=["Give the site's address."], status=422)
    storage = moderation_of(request).storage
    try:
        site = storage.create_site(url=url[:2048], name=name[:200] if name else None)
    except InvalidValue as exc:
        return _sites_page(request, signed, errors=[str(exc)], status=422)
    return redirect(f"{base_path(request)}/sites/{site.id}", msg="site_created")


@router.get("/sites/{site_id}")
def read_site(request: Request, signed: AdminDep, site_id: SiteId) -> Response:
    """A site's settings and keys."""
    return _site_page(request, signed, _site(request, site_id))


def _number(form: Form, name: str) -> float:
    raw = form.get(name).strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise BadForm(f"Cut-off '{name}' must be a number between 0 and 1.") from None
    if not math.isfinite(value):
        raise BadForm(f"Cut-off '{name}' must be a number between 0 and 1.")
    return value


def settings_changes(form: Form) -> dict[str, Any]:
    """The settings a form asks for, in the types ``update_site_settings`` takes."""
    changes: dict[str, Any] = {}
    if form.get("cutoffs_mode") == "model":
        changes["cutoffs"] = None
    elif form.get("cutoffs_mode") == "custom":
        changes["cutoffs"] = {name: _number(form, name) for name in CUTOFF_NAMES}
    if "unsure_is_spam" in form:
        changes["unsure_is_spam"] = form.get("unsure_is_spam") == "true"
    if "retention_days" in form:
        raw = form.get("retention_days").strip()
        if not raw.isdigit():
            raise BadForm("Retention must be a whole number of days.")
        changes["retention_days"] = int(raw)
    for name in ("store_pii", "fail_open"):
        if name in form:
            changes[name] = form.get(name)
    return changes


@router.post("/sites/{site_id}/settings")
def update_settings(request: Request, signed: AdminDep, form: FormDep, site_id: SiteId) -> Response:
    """Change a site's cut-offs, Akismet mapping of unsure, retention and privacy settings."""
    site = _site(request, site_id)
    try:
        changes = settings_changes(form)
        moderation_of(request).storage.update_site_settings(site_id=site.id, **changes)
    except (BadForm, InvalidValue) as exc:
        message = exc.message if isinstance(exc, BadForm) else str(exc)
        return _site_page(request, signed, site, errors=[message], status=422)
    return redirect(f"{base_path(request)}/sites/{site.id}", msg="settings_saved")


@router.post("/sites/{site_id}/keys")
def create_key(request: Request, signed: AdminDep, form: FormDep, site_id: SiteId) -> Response:
    """A new API key, shown in this response only."""
    site = _site(request, site_id)
    key_id, plaintext = moderation_of(request).storage.create_key(site_id=site.id)
    return _site_page(request, signed, site, new_key=(key_id, plaintext), status=201)


@router.post("/sites/{site_id}/keys/{key_id}/revoke")
def revoke_key(
    request: Request, signed: AdminDep, form: FormDep, site_id: SiteId, key_id: KeyId
) -> Response:
    """Revoke one of the site's keys; requests with it are refused from now on."""
    site = _site(request, site_id)
    storage = moderation_of(request).storage
    if key_id not in {k.id for k in storage.list_keys(site_id=site.id)}:
        raise PageNotFound("That key does not belong to this site.")
    storage.revoke_key(key_id=key_id)
    return redirect(f"{base_path(request)}/sites/{site.id}", msg="revoked")
