"""Try it: paste a comment and see the verdict and reasons the site would get, without storing.

Scoring goes through ``Moderation.score`` with the chosen site, so the site's cut-offs and
what its moderators taught the filter (reputation) apply exactly as for a real check; the
comment is neither recorded nor counted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from service.dashboard.highlight import highlight
from service.dashboard.overview import chosen_site
from service.dashboard.queue import reason_views
from service.dashboard.web import (
    BadForm,
    FormDep,
    PageNotFound,
    Signed,
    UserDep,
    make_router,
    moderation_of,
    render,
    visible_sites,
)
from service.storage import Site

router = make_router()
MAX_CONTENT = 20_000
FIELDS = (
    ("author_name", "Author name", 200),
    ("author_email", "Author e-mail", 320),
    ("author_url", "Author website", 2048),
)


def _page(
    request: Request,
    signed: Signed,
    *,
    site: Site | None,
    values: dict[str, str],
    status: int = 200,
    **result: object,
) -> Response:
    sites = visible_sites(request, signed.user)
    if not sites:
        raise PageNotFound("There are no sites yet: create one under Sites & keys first.")
    return render(
        request,
        "try.html",
        signed=signed,
        nav="try",
        status=status,
        sites=sites,
        site=site or sites[0],
        values=values,
        fields=FIELDS,
        max_content=MAX_CONTENT,
        **result,
    )


@router.get("/try")
def read_try(
    request: Request,
    signed: UserDep,
    site: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The form."""
    return _page(request, signed, site=chosen_site(request, signed, site), values={})


@router.post("/try")
def try_comment(request: Request, signed: UserDep, form: FormDep) -> Response:
    """Score the pasted comment as the chosen site would, and explain the verdict."""
    site_id = form.get("site")
    if not site_id.isdigit():
        raise BadForm("Choose a site.")
    site = chosen_site(request, signed, int(site_id))
    values = {"content": form.get("content")[:MAX_CONTENT]}
    values.update({name: form.get(name).strip()[:limit] for name, _, limit in FIELDS})
    if not values["content"].strip():
        return _page(
            request,
            signed,
            site=site,
            values=values,
            status=422,
            errors=["Paste a comment to try."],
        )
    record = {k: v for k, v in values.items() if v}
    if site is None:  # not reached: chosen_site answers None only for no site_id
        raise BadForm("Choose a site.")
    score = moderation_of(request).score(site, record)
    return _page(
        request,
        signed,
        site=site,
        values=values,
        score=score,
        reasons=reason_views([r.as_dict() for r in score.reasons]),
        html=highlight(values["content"], score.reasons),
    )
