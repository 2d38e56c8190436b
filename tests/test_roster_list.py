"""The organizer's list at 5,000 registrations: filters, order, pages and counts; the door's phone view."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

import app as app_module
from chalicelib.domain.event import Event
from chalicelib.domain.event_file import read_event_file
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.usecases import roster
from chalicelib.usecases.registering import _registration_item
from tests.conftest import SAMPLE_EVENT, Engines, World, attendee, new_world, page
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

MANY = 5_000
KANA = ("アイザワ", "イトウ", "ウエノ", "エンドウ", "オオタ", "カトウ", "キムラ", "クドウ", "ケンモチ", "コバヤシ")


@pytest.fixture(scope="module")
def crowd(local_engines: Engines) -> Iterator[tuple[World, Event]]:
    """5,000 registrations written straight into one table for the module (the tests here only read them).

    Batch writes of 25 items, once: the list reads them like any others. (Written one by one for each
    test, the crowd took about a minute per test.)
    """
    with new_world(local_engines) as world:
        published = world.publish(read_event_file(str(SAMPLE_EVENT)))
        categories = [c.key for c in published.categories]
        items = []
        for n in range(MANY):
            who = attendee(
                name=f"参加者{n:04d}",
                kana=f"{KANA[n % 10]} {n:04d}",
                email=f"p{n}@example.jp",
                organization=f"組織{n % 7}",
                category=categories[n % len(categories)],
            )
            item = _registration_item(published.slug, who, f"R{n:09d}", f"S{n}", world.clock.now())
            item["created_at"] = f"2027-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}Z"
            if n % 10 == 9:
                item["status"] = RegistrationStatus.CANCELLED.value
            if n % 4 == 0:
                item["checked_in_at"] = "2027-01-20T06:00:00Z"
            items.append(item)
        table = boto3.resource("dynamodb", endpoint_url=local_engines.dynamodb).Table(world.table.name)
        with table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)
        yield world, published


@pytest.fixture
def crowded(crowd: tuple[World, Event]) -> Event:
    """The crowd's event, its table wired into the app for this test."""
    world, published = crowd
    app_module.use_services(world.services)
    return published


@dataclasses.dataclass
class Desk:
    """An organizer signed in to the crowd's table, and the client they use."""

    client: Client
    signed: SignedIn

    def get(self, path: str) -> Any:
        return self.signed.get(self.client, path)


@pytest.fixture(scope="module")
def signed_in_desk(crowd: tuple[World, Event]) -> Iterator[Desk]:
    """One sign-in for the module (the clock stands still, so the session holds)."""
    world = crowd[0]
    world.let_sign_in(ORGANIZER)
    app_module.use_services(world.services)
    with Client(app_module.app) as client:
        yield Desk(client, sign_in(client, world))


@pytest.fixture
def desk(signed_in_desk: Desk, crowded: Event) -> Iterator[Desk]:
    yield signed_in_desk
    app_module.use_services(None)


def cards(html: str) -> list[str]:
    return re.findall(r'<p class="person-name">([^<]+)<', html)


@pytest.mark.slow
def test_five_thousand_registrations_page_filter_and_sort(desk: Desk, crowded: Event) -> None:
    path = f"/organizer/events/{crowded.slug}"
    first = page(desk.get(path))
    assert f"{MANY}件中 1〜{roster.PAGE_SIZE}件" in first and len(cards(first)) == roster.PAGE_SIZE
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = page(desk.get(f"{path}?page=100"))
    assert f"{MANY}件中 4951〜5000件" in last and 'rel="next"' not in last and len(cards(last)) == 50
    beyond = page(desk.get(f"{path}?page=999"))
    assert "4951〜5000件" in beyond  # a page past the end shows the last one
    arrived = page(desk.get(f"{path}?status=confirmed&arrived=yes&sort=reading"))
    # Confirmed (not every tenth) and checked in (every fourth): 1,250 checked in, minus the cancelled among them.
    expected = sum(1 for n in range(MANY) if n % 10 != 9 and n % 4 == 0)
    assert f"{expected}件中 1〜50件" in arrived
    names = cards(arrived)
    assert names == sorted(names, key=lambda name: (KANA[int(name[-4:]) % 10], name[-4:]))
    link = re.search(r'href="(\?[^"]+)" rel="next"', arrived)
    assert link is not None and "arrived=yes" in link.group(1) and "sort=reading" in link.group(1)
    category = crowded.categories[0]
    by_category = page(desk.get(f"{path}?category={category.key}&sort=organization"))
    total = sum(1 for n in range(MANY) if n % len(crowded.categories) == 0)
    assert f"{total}件中" in by_category
    junk = desk.get(f"{path}?page=-3&sort=%3Cscript%3E&arrived=maybe")
    assert junk.status_code == 200 and f"{MANY}件中 1〜50件" in page(junk)


@pytest.mark.slow
def test_the_door_sees_who_is_still_to_come_by_reading_a_page_at_a_time(desk: Desk, crowded: Event) -> None:
    door = page(desk.get(f"/organizer/events/{crowded.slug}/check-in"))
    to_come = sum(1 for n in range(MANY) if n % 10 != 9 and n % 4 != 0)
    assert f"{to_come}名" in door and len(cards(door)) == roster.PAGE_SIZE
    assert cards(door)[0].startswith("参加者")
    found = page(desk.get(f"/organizer/events/{crowded.slug}/check-in?q=参加者0042"))
    assert "「参加者0042」：1件" in found


def test_a_list_query_reads_only_what_it_knows() -> None:
    asked = roster.ListQuery.from_params({"page": "7", "sort": "reading", "arrived": "no", "needs": "yes", "x": "y"})
    assert (asked.page, asked.sort, asked.arrived, asked.needs) == (7, "reading", "no", "yes")
    assert asked.params(page=8) == {"arrived": "no", "needs": "yes", "sort": "reading", "page": "8"}
    odd = roster.ListQuery.from_params({"page": "0", "sort": "drop table", "arrived": "maybe"})
    assert (odd.page, odd.sort, odd.arrived) == (1, "time", "")
    assert dataclasses.replace(odd, page=1).params() == {}
