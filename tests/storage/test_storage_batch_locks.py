"""Batches of checks from several writers (workers, replicas) on PostgreSQL never deadlock.

Each batch upserts one counter row per (site, day) and one usage row per (key, month). Two
batches that meet the same rows in opposite orders lock them in opposite orders: PostgreSQL
then aborts one as a deadlock, which storage reports as ``DatabaseUnavailable`` and which
would put that writer's process into outage mode (spooling everything) for nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from service.storage import Site, Storage
from service.storage.records import NewCheck
from tests.storage.conftest import SECRET

pytestmark = pytest.mark.postgres


@pytest.fixture
def writers(db_url: str) -> Iterator[tuple[Storage, Storage]]:
    first, second = Storage(db_url, secret=SECRET), Storage(db_url, secret=SECRET)
    yield first, second
    first.close()
    second.close()


def _check(site: Site, key_id: int, number: int) -> NewCheck:
    return NewCheck(
        check_id=f"lock-{number}",
        site_id=site.id,
        key_id=key_id,
        at=datetime.now(UTC),
        fields={"content": f"comment {number}"},
        score=0.1,
        verdict="ham",
        model_version="v1",
        reasons=[],
    )


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the writers never queued on the lock"
        time.sleep(0.02)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_batches_meeting_the_same_counter_rows_in_opposite_orders_both_commit(
    writers: tuple[Storage, Storage],
) -> None:
    first, second = writers
    sites = [first.create_site(url=f"https://blog{n}.example") for n in range(2)]
    keys = [first.create_key(site_id=site.id)[0] for site in sites]
    # Today's counter and usage rows exist, so each batch's upsert locks them.
    first.record_checks([_check(sites[n], keys[n], n) for n in range(2)])

    def waiting() -> int:
        with first.engine.connect() as probe:
            return int(
                probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            )

    errors: list[Exception] = []

    def store(storage: Storage, batch: list[NewCheck]) -> None:
        try:
            storage.record_checks(batch)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    # Which waiter takes site 0's row first when the blocker commits is a race: when the first
    # batch wins it, the two deadlock. A few rounds make that all but certain to happen.
    rounds = 5
    for round_ in range(rounds):
        blocker = first.engine.connect()
        blocker.begin()
        blocker.execute(
            text("UPDATE daily_counts SET checks = checks WHERE site_id = :site"),
            {"site": sites[0].id},
        )
        # The first batch meets site 0 then site 1 and waits on site 0's row; the second meets
        # site 1 (and locks it) then waits on site 0 too.
        number = 100 * (round_ + 1)
        forward = [_check(sites[0], keys[0], number), _check(sites[1], keys[1], number + 1)]
        backward = [_check(sites[1], keys[1], number + 2), _check(sites[0], keys[0], number + 3)]
        threads = [
            threading.Thread(target=store, args=(first, forward)),
            threading.Thread(target=store, args=(second, backward)),
        ]
        threads[0].start()
        _wait_until(lambda: waiting() >= 1)
        threads[1].start()
        _wait_until(lambda: waiting() >= 2)
        blocker.commit()
        blocker.close()
        for thread in threads:
            thread.join(30)
        assert errors == [], f"round {round_}"

    for site in sites:
        assert first.site_stats(site_id=site.id).checks == 1 + 2 * rounds
