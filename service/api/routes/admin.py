"""Admin API: sites, their settings and their API keys, behind ``SLUICE_ADMIN_TOKEN``.

The same operations as ``python -m service sites|keys ...``, for people who manage the
service from another machine. A key's plaintext appears once, in the answer that creates it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import AdminDep, ModerationDep
from service.api.jsonbody import StrictJsonRoute
from service.api.schemas import ErrorOut, SiteUrl, Text
from service.errors import NotFoundError
from service.storage import ApiKey, Site, Storage

router = APIRouter(prefix="/admin", tags=["admin"], route_class=StrictJsonRoute)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 404, 409, 413, 415, 422, 429, 503)
}
SiteId = Annotated[int, Path(ge=1, le=2**31 - 1)]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class CutoffsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unsure: float = Field(ge=0, le=1)
    spam: float = Field(ge=0, le=1)
    discard: float = Field(ge=0, le=1)


class SiteSettingsIn(BaseModel):
    """Only the settings sent are changed; ``cutoffs: null`` goes back to the model's."""

    model_config = ConfigDict(extra="forbid")

    cutoffs: CutoffsIn | None = None
    unsure_is_spam: bool | None = None
    retention_days: int | None = Field(None, ge=1, le=3650)
    store_pii: Literal["hashed", "clear"] | None = None
    fail_open: Literal["ham", "unsure"] | None = None

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True)
        return {
            name: value for name, value in sent.items() if value is not None or name == "cutoffs"
        }


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: SiteUrl
    name: Annotated[Text, Field(max_length=200)] | None = None
    settings: SiteSettingsIn | None = None


class SitePublic(BaseModel):
    id: int
    url: str
    name: str | None
    created_at: datetime
    settings: dict[str, Any]


class KeyPublic(BaseModel):
    id: int
    site_id: int
    hint: str = Field(description="the key's last four characters")
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="the API key itself; shown this once, never again")


def _site(site: Site) -> SitePublic:
    return SitePublic(
        id=site.id,
        url=site.url,
        name=site.name,
        created_at=site.created_at,
        settings=site.settings.to_json(),
    )


def _key(key: ApiKey) -> KeyPublic:
    return KeyPublic(
        id=key.id,
        site_id=key.site_id,
        hint=key.hint,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def _existing_site(storage: Storage, site_id: int) -> Site:
    site = storage.get_site(site_id)
    if site is None:
        raise NotFoundError(f"site {site_id} not found")
    return site


@router.get("/sites", response_model=list[SitePublic], responses=ERRORS)
def list_sites(_: AdminDep, moderation: ModerationDep) -> list[SitePublic]:
    """Every site with its settings."""
    return [_site(s) for s in moderation.storage.list_sites()]


@router.post(
    "/sites", response_model=SitePublic, status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def create_site(body: SiteCreate, _: AdminDep, moderation: ModerationDep) -> SitePublic:
    """Add a site (its URL is normalised; 409 if it exists)."""
    settings = body.settings.changes() if body.settings else None
    site = moderation.storage.create_site(url=body.url, name=body.name, settings=settings)
    return _site(site)


@router.get("/sites/{site_id}", response_model=SitePublic, responses=ERRORS)
def read_site(site_id: SiteId, _: AdminDep, moderation: ModerationDep) -> SitePublic:
    """One site with its settings."""
    return _site(_existing_site(moderation.storage, site_id))


@router.patch("/sites/{site_id}/settings", response_model=SitePublic, responses=ERRORS)
def update_site_settings(
    site_id: SiteId, body: SiteSettingsIn, _: AdminDep, moderation: ModerationDep
) -> SitePublic:
    """Change some of a site's settings (cut-offs, unsure_is_spam, retention, PII, fail-open)."""
    site = moderation.storage.update_site_settings(site_id=site_id, **body.changes())
    return _site(site)


@router.get("/sites/{site_id}/keys", response_model=list[KeyPublic], responses=ERRORS)
def list_keys(site_id: SiteId, _: AdminDep, moderation: ModerationDep) -> list[KeyPublic]:
    """A site's keys (revoked ones too), by hint only."""
    _existing_site(moderation.storage, site_id)
    return [_key(k) for k in moderation.storage.list_keys(site_id=site_id)]


@router.post(
    "/sites/{site_id}/keys",
    response_model=KeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
def create_key(site_id: SiteId, _: AdminDep, moderation: ModerationDep) -> KeyCreated:
    """A new 12-hex-digit key for the site; the answer is the only place it is ever shown."""
    storage = moderation.storage
    key_id, plaintext = storage.create_key(site_id=site_id)
    stored = next(k for k in storage.list_keys(site_id=site_id) if k.id == key_id)
    return KeyCreated(**_key(stored).model_dump(), key=plaintext)


@router.post("/keys/{key_id}/revoke", response_model=KeyPublic, responses=ERRORS)
def revoke_key(key_id: KeyId, _: AdminDep, moderation: ModerationDep) -> KeyPublic:
    """Revoke a key at once (repeating it keeps the first revocation time)."""
    return _key(moderation.storage.revoke_key(key_id=key_id))
