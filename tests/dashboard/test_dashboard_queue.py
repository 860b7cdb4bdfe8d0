"""Review queue: filters, search, and one-click feedback stored exactly like the API's."""

from __future__ import annotations

import html
import re

from dashboard_support import Dash, World, record


def test_queue_lists_pending_unsure_and_spam_newest_first(admin: Dash, world: World) -> None:
    record(world.storage, world.site, "a ham comment", "ham")
    first = record(world.storage, world.site, "held for review", "unsure")
    second = record(world.storage, world.site, "caught as spam", "spam")
    record(world.storage, world.site, "blatant", "discard")
    record(world.storage, world.other, "another site's spam", "spam")
    page = admin.get(f"/dashboard/queue?site={world.site.id}").text
    assert page.index(f'id="check-{second}"') < page.index(f'id="check-{first}"')
    assert "a ham comment" not in page and "blatant" not in page
    assert "another site" not in page
    everything = admin.get(f"/dashboard/queue?site={world.site.id}&verdict=all").text
    assert "a ham comment" in everything and "blatant" in everything


def test_search_and_reviewed_filter(admin: Dash, world: World) -> None:
    record(world.storage, world.site, "cheap watches here", "spam", author="Watch Seller")
    reviewed = record(world.storage, world.site, "cheap pills here", "spam")
    world.storage.record_feedback(
        site_id=world.site.id, label="spam", source="api", fields={}, check_id=reviewed
    )
    base = f"/dashboard/queue?site={world.site.id}"
    found = admin.get(base + "&q=WATCH+seller").text
    assert "cheap watches here" in found and "cheap pills here" not in found
    assert "cheap pills here" not in admin.get(base).text  # reviewed ones leave the queue
    assert "cheap pills here" in admin.get(base + "&status=reviewed").text


def test_reasons_are_shown_and_highlighted(admin: Dash, world: World) -> None:
    record(
        world.storage,
        world.site,
        "Best CASINO bonus <b>today</b> at https://win.shop/now",
        "spam",
        reasons=[
            {"feature": "words__casino", "label": "word “casino”", "weight": 2.5},
            {"feature": "meta__link_tld=shop", "label": "links to a .shop domain", "weight": 1.1},
        ],
    )
    page = admin.get(f"/dashboard/queue?site={world.site.id}").text
    assert '<mark class="hl hl-spam"' in page and ">CASINO</mark>" in page
    assert ">https://win.shop/now</mark>" in page
    assert "&lt;b&gt;today&lt;/b&gt;" in page  # comment HTML is shown, never rendered
    assert "links to a .shop domain" in page and "+1.10" in page


def test_one_click_not_spam_records_dashboard_feedback(admin: Dash, world: World) -> None:
    check_id = record(world.storage, world.site, "Lovely photos of the lake", "spam")
    response = admin.post(
        "/dashboard/queue", {"site": world.site.id, "one": f"ham:{check_id}", "status": "pending"}
    )
    assert response.status_code == 303
    assert "msg=feedback" in response.headers["location"]
    stored = world.storage.list_feedback(site_id=world.site.id)
    assert [(f.check_id, f.label.value, f.source.value, f.reporter) for f in stored] == [
        (check_id, "ham", "dashboard", "ada")
    ]
    assert world.storage.get_check(check_id).feedback_label.value == "ham"
    assert world.storage.site_stats(site_id=world.site.id).false_positives == 1
    # Like the API, the correction teaches the site's reputation memory at once.
    counts = world.storage.get_reputation(
        site_id=world.site.id, entries=[("author_email", "a@example.org")]
    )
    assert next(iter(counts.values())).ham == 1


def test_bulk_spam_and_json_answers_for_the_script(admin: Dash, world: World) -> None:
    ids = [record(world.storage, world.site, f"held {i}", "unsure") for i in range(3)]
    response = admin.post(
        "/dashboard/queue",
        {"site": world.site.id, "bulk": "spam", "check": ids[:2]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert sorted(d["check_id"] for d in response.json()["done"]) == sorted(ids[:2])
    labels = {f.check_id: f.label.value for f in world.storage.list_feedback()}
    assert labels == {ids[0]: "spam", ids[1]: "spam"}
    assert world.storage.site_stats(site_id=world.site.id).missed_spam == 2
    nothing = admin.post("/dashboard/queue", {"site": world.site.id, "bulk": "spam"})
    assert nothing.status_code == 422


def test_moderator_sees_and_corrects_only_their_sites(moderator: Dash, world: World) -> None:
    mine = record(world.storage, world.site, "on my site", "spam")
    theirs = record(world.storage, world.other, "on the other site", "spam")
    overview = moderator.get("/dashboard/").text
    assert "Example blog" in overview and "Other shop" not in overview
    assert "on my site" in moderator.get("/dashboard/queue").text
    assert moderator.get(f"/dashboard/queue?site={world.other.id}").status_code == 404
    assert moderator.get(f"/dashboard/?site={world.other.id}").status_code == 404
    assert moderator.get(f"/dashboard/try?site={world.other.id}").status_code == 404
    other = moderator.post("/dashboard/queue", {"site": world.other.id, "one": f"ham:{theirs}"})
    assert other.status_code == 404
    smuggled = moderator.post("/dashboard/queue", {"site": world.site.id, "one": f"ham:{theirs}"})
    assert smuggled.status_code == 422
    assert world.storage.list_feedback(site_id=world.other.id) == []
    assert (
        moderator.post(
            "/dashboard/queue", {"site": world.site.id, "one": f"spam:{mine}"}
        ).status_code
        == 303
    )
    assert moderator.get("/dashboard/sites").status_code == 403
    assert moderator.get(f"/dashboard/sites/{world.site.id}").status_code == 403
    assert moderator.post(f"/dashboard/sites/{world.site.id}/keys").status_code == 403
    assert moderator.post("/dashboard/models/rollback").status_code == 403
    assert "Sites &amp; keys" not in overview


def test_check_through_the_api_then_clear_it_from_the_queue(admin: Dash, world: World) -> None:
    _, key = world.storage.create_key(site_id=world.site.id)
    spam = {
        "content": "Guaranteed 500% returns!!! Invest in crypto now at https://quick-profit.top "
        "and https://bit.ly/x1 — WhatsApp +1 555 0100 for VIP signals",
        "author_name": "Crypto Profit",
    }
    check = admin.client.post(
        "/v1/comments/check", json=spam, headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert check["verdict"] in ("unsure", "spam", "discard")
    verdict = "all" if check["verdict"] == "discard" else "review"
    page = admin.get(f"/dashboard/queue?site={world.site.id}&verdict={verdict}").text
    assert f'id="check-{check["id"]}"' in page
    admin.post("/dashboard/queue", {"site": world.site.id, "one": f"spam:{check['id']}"})
    assert world.storage.list_feedback()[0].check_id == check["id"]
    assert (
        f'id="check-{check["id"]}"'
        not in admin.get(f"/dashboard/queue?site={world.site.id}&verdict={verdict}").text
    )


def test_older_comments_continue_where_the_page_stopped(admin: Dash, world: World) -> None:
    ids = [record(world.storage, world.site, f"spam number {i}", "spam") for i in range(30)]
    first = admin.get(f"/dashboard/queue?site={world.site.id}").text
    shown = re.findall(r'<li class="item[^"]*" id="check-(\w+)"', first)
    assert shown == ids[::-1][:25]
    older = re.search(r'<a class="button" rel="next" href="([^"]+)"', first)[1]
    rest = admin.get(html.unescape(older)).text
    assert re.findall(r'<li class="item[^"]*" id="check-(\w+)"', rest) == ids[::-1][25:]
    assert 'rel="next"' not in rest
