"""Staff and roles managed in the browser: owners, staff and door staff see and do exactly what they should."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.domain.event import Event
from chalicelib.usecases import staff
from chalicelib.usecases.registering import register
from chalicelib.usecases.staff import Role
from tests.conftest import FORM, World, mailbox, numbered, page
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

STAFF, DOOR = "staff@example.jp", "door@example.jp"
# The least role each organizer route is for. A route missing here fails the test below: every new
# page must be given its audience.
NEEDS = {
    ("GET", "/organizer"): Role.DOOR,
    ("POST", "/organizer/sign-out"): Role.DOOR,
    ("GET", "/organizer/events/{slug}/check-in"): Role.DOOR,
    ("GET", "/organizer/events/{slug}/check-in/{registration_id}"): Role.DOOR,
    ("POST", "/organizer/events/{slug}/check-in/{registration_id}"): Role.DOOR,
    ("GET", "/organizer/events/{slug}"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/registrations/{registration_id}"): Role.STAFF,
    ("POST", "/organizer/events/{slug}/registrations/{registration_id}"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/registrations/{registration_id}/print"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/add"): Role.STAFF,
    ("POST", "/organizer/events/{slug}/add"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/report"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/excel/{name}"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/certificates"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/survey"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/survey.csv"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/report.csv"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/walk-in"): Role.DOOR,
    ("POST", "/organizer/events/{slug}/walk-in"): Role.DOOR,
    ("GET", "/organizer/events/{slug}/export/{name}"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/broadcasts"): Role.STAFF,
    ("POST", "/organizer/events/{slug}/broadcasts"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/broadcasts/{broadcast_id}"): Role.STAFF,
    ("GET", "/organizer/events/{slug}/announcements"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/announcements"): Role.OWNER,
    ("GET", "/organizer/staff"): Role.OWNER,
    ("GET", "/organizer/new-event"): Role.OWNER,
    ("POST", "/organizer/new-event"): Role.OWNER,
    ("GET", "/organizer/events/{slug}/edit"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/edit"): Role.OWNER,
    ("GET", "/organizer/events/{slug}/edit-file"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/edit-file"): Role.OWNER,
    ("GET", "/organizer/events/{slug}/duplicate"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/visibility"): Role.OWNER,
    ("GET", "/organizer/new-event/file"): Role.OWNER,
    ("POST", "/organizer/new-event/file"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/publish"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/delete"): Role.OWNER,
    ("POST", "/organizer/events/{slug}/archive"): Role.OWNER,
    ("GET", "/organizer/events/{slug}/qr.svg"): Role.STAFF,
    ("POST", "/organizer/staff"): Role.OWNER,
    ("GET", "/organizer/api-keys"): Role.OWNER,
    ("POST", "/organizer/api-keys"): Role.OWNER,
    ("POST", "/organizer/api-keys/{key_id}/revoke"): Role.OWNER,
}


def routes() -> list[tuple[str, str]]:
    """Every organizer route but signing in, as (method, path template)."""
    found = [
        (method, path)
        for path, methods in app_module.app.routes.items()
        if path.startswith("/organizer") and not path.startswith("/organizer/sign-in")
        for method in methods
    ]
    return sorted(found)


def concrete(path: str) -> str:
    return (
        path.replace("{slug}", "cdo-seminar")
        .replace("{registration_id}", "R000000001")
        .replace("{broadcast_id}", "B1")
        .replace("{name}", "door.csv")
        .replace("{key_id}", "K1")
    )


def test_every_organizer_route_is_given_its_audience() -> None:
    assert sorted(NEEDS) == routes()


def test_each_route_declares_the_role_its_audience_is() -> None:
    # Where the route is declared (@get/@post in chalicelib/web/organizer/) says the same as the table above.
    declared = {
        (method, path): entry.view_function.least_role
        for path, entries in app_module.app.routes.items()
        if path.startswith("/organizer") and not path.startswith("/organizer/sign-in")
        for method, entry in entries.items()
    }
    assert declared == NEEDS


@pytest.fixture
def people(client: Client, world: World, published: Event) -> dict[Role, SignedIn]:
    """An owner (from the deployment's list), a staff member and a door person added in the browser."""
    world.let_sign_in(ORGANIZER)
    register(world.table, published, numbered(1), "S1", world.clock.now(), world.services.ids)
    seeds = world.services.settings.organizers
    for email, role in ((STAFF, Role.STAFF), (DOOR, Role.DOOR)):
        staff.set_role(world.table, seeds, email, role, ORGANIZER, world.clock.now())
    return {
        Role.OWNER: sign_in(client, world),
        Role.STAFF: sign_in(client, world, STAFF),
        Role.DOOR: sign_in(client, world, DOOR),
    }


def call(client: Client, who: SignedIn, method: str, path: str) -> Any:
    if method == "GET":
        return who.get(client, path)
    return client.http.post(path, headers={**FORM, "Cookie": who.cookie}, body=urlencode({"csrf": who.csrf}))


@pytest.mark.parametrize(("method", "path"), routes())
def test_each_role_reaches_exactly_its_routes(
    client: Client, people: dict[Role, SignedIn], method: str, path: str
) -> None:
    needed = NEEDS[(method, path)]
    for role, who in people.items():
        response = call(client, who, method, concrete(path))
        if staff.allows(role, needed):
            assert response.status_code != 403, (role, path)
        else:
            body = page(response)
            assert response.status_code == 403, (role, path, response.status_code)
            assert "person1@example.jp" not in body and "参加者1" not in body


def test_door_staff_see_the_door_and_nothing_else(client: Client, people: dict[Role, SignedIn]) -> None:
    door = people[Role.DOOR]
    dashboard = page(door.get(client, "/organizer"))
    assert 'href="/organizer/events/cdo-seminar/check-in"' in dashboard and "api-keys" not in dashboard
    assert "/organizer/staff" not in dashboard
    found = page(door.get(client, "/organizer/events/cdo-seminar/check-in?q=サンカシャ"))
    assert "参加者1" in found and "person1@example.jp" not in found


def test_an_owner_adds_changes_and_removes_people_and_a_removal_ends_their_session_at_once(
    client: Client, world: World, people: dict[Role, SignedIn]
) -> None:
    owner, desk = people[Role.OWNER], people[Role.STAFF]
    listing = page(owner.get(client, "/organizer/staff"))
    assert STAFF in listing and DOOR in listing and ORGANIZER in listing
    added = owner.post(client, "/organizer/staff", email="New@Example.jp", role="door")
    assert added.status_code == 303
    assert staff.role_of(world.table, world.services.settings.organizers, "new@example.jp") is Role.DOOR
    world.deliver_outbox()  # the registration's confirmation, out of the way
    before = len(mailbox())
    client.http.post("/organizer/sign-in", headers=FORM, body=urlencode({"email": "new@example.jp"}))
    world.deliver_outbox()
    assert [m["To"] for m in mailbox()[before:]] == ["new@example.jp"]  # a person added here can sign in
    assert desk.get(client, "/organizer/events/cdo-seminar").status_code == 200
    assert owner.post(client, "/organizer/staff", email=STAFF, role="door").status_code == 303
    assert desk.get(client, "/organizer/events/cdo-seminar").status_code == 403  # demoted at once
    assert owner.post(client, "/organizer/staff", email=STAFF, role="remove").status_code == 303
    gone = desk.get(client, "/organizer")
    assert gone.status_code == 303 and "/organizer/sign-in" in gone.headers["Location"]
    refused = owner.post(client, "/organizer/staff", email="x@example.jp", role="emperor")
    assert refused.status_code == 400 and 'id="role-error"' in page(refused)
    bad = owner.post(client, "/organizer/staff", email="not-an-address", role="staff")
    assert bad.status_code == 400 and 'id="email-error"' in page(bad)


def test_the_last_owner_cannot_be_removed_and_a_removed_seed_stays_removed(
    client: Client, world: World, people: dict[Role, SignedIn]
) -> None:
    owner = people[Role.OWNER]
    kept = owner.post(client, "/organizer/staff", email=ORGANIZER, role="staff")
    assert kept.status_code == 409 and "オーナーが1人もいなくなる" in page(kept)
    assert owner.post(client, "/organizer/staff", email=STAFF, role="owner").status_code == 303
    assert owner.post(client, "/organizer/staff", email=ORGANIZER, role="remove").status_code == 303
    seeds = world.services.settings.organizers
    assert ORGANIZER in seeds and staff.role_of(world.table, seeds, ORGANIZER) is None
    assert owner.get(client, "/organizer").status_code == 303  # the seed in the settings no longer lets them in


def test_staff_limited_to_chosen_events_see_and_open_only_those(
    client: Client, world: World, sample_event: Event, people: dict[Role, SignedIn]
) -> None:
    import dataclasses

    other = world.publish(dataclasses.replace(sample_event, slug="other-session", title="別の勉強会"))
    owner = people[Role.OWNER]
    form = page(owner.get(client, "/organizer/staff"))
    assert 'name="event_cdo-seminar"' in form and 'name="event_other-session"' in form
    for role, email in ((Role.DOOR, DOOR), (Role.STAFF, STAFF)):
        limited = owner.post(client, "/organizer/staff", email=email, role=role.value, **{"event_cdo-seminar": "yes"})
        assert limited.status_code == 303
    assert "担当：1件のイベントだけ" in page(owner.get(client, "/organizer/staff"))
    door, desk = people[Role.DOOR], people[Role.STAFF]
    dashboard = page(door.get(client, "/organizer"))
    assert sample_event.title in dashboard and other.title not in dashboard
    assert door.get(client, "/organizer/events/cdo-seminar/check-in").status_code == 200
    assert door.get(client, "/organizer/events/other-session/check-in").status_code == 404  # as if it did not exist
    assert desk.get(client, "/organizer/events/other-session").status_code == 404
    assert desk.get(client, "/organizer/events/other-session/export/door.csv").status_code == 404
    assert desk.get(client, "/organizer/events/cdo-seminar").status_code == 200
    assert owner.get(client, "/organizer/events/other-session").status_code == 200  # owners see every event
    # Back to every event: the limit goes as soon as it is saved.
    assert owner.post(client, "/organizer/staff", email=STAFF, role="staff").status_code == 303
    assert desk.get(client, "/organizer/events/other-session").status_code == 200


def test_a_removed_member_stays_signed_out_when_added_again(
    client: Client, world: World, people: dict[Role, SignedIn]
) -> None:
    owner, door = people[Role.OWNER], people[Role.DOOR]
    assert door.get(client, "/organizer/events/cdo-seminar/check-in").status_code == 200
    assert owner.post(client, "/organizer/staff", email=DOOR, role="remove").status_code == 303
    assert owner.post(client, "/organizer/staff", email=DOOR, role="door").status_code == 303
    # Added again within the session's 12 hours: the old session does not come back.
    again = door.get(client, "/organizer/events/cdo-seminar/check-in")
    assert again.status_code == 303 and "/organizer/sign-in" in again.headers["Location"]


def test_the_door_search_finds_names_and_numbers_never_addresses(
    client: Client, world: World, people: dict[Role, SignedIn]
) -> None:
    door = people[Role.DOOR]
    by_address = page(door.get(client, "/organizer/events/cdo-seminar/check-in?q=person1@example.jp"))
    assert "：0件" in by_address
    assert "：1件" in page(door.get(client, "/organizer/events/cdo-seminar/check-in?q=参加者1"))


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    world: World, people: dict[Role, SignedIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds, now = world.services.settings.organizers, world.clock.now()
    staff.set_role(world.table, seeds, STAFF, Role.OWNER, ORGANIZER, now)  # two owners: ORGANIZER and STAFF
    read_members, racing = staff.members, [True]

    def members_then_the_other_demotion(table: Any, seeds_: frozenset[str]) -> list[staff.Member]:
        found = read_members(table, seeds_)
        if racing:  # the other owner's demotion lands between this one's read and its write
            racing.clear()
            assert staff.set_role(table, seeds_, STAFF, Role.STAFF, ORGANIZER, now) is staff.Change.SAVED
        return found

    monkeypatch.setattr(staff, "members", members_then_the_other_demotion)
    # Read before the other demotion, this one still saw two owners; written after it, it would leave none.
    assert staff.set_role(world.table, seeds, ORGANIZER, Role.STAFF, STAFF, now) is staff.Change.LAST_OWNER
    owners = [m.email for m in read_members(world.table, seeds) if m.role is Role.OWNER]
    assert owners == [ORGANIZER]
