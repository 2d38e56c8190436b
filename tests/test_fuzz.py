"""Generated input: validation never crashes, names only real fields, and lets no control character through.

Each fuzzer counts how many of its examples reached the code it is about (tests/reach.py) and asserts
a floor: the API key the requests carry has no rate limit, so none is answered 429 before validation.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app as app_module
from chalicelib.domain.attendee import validate_registration
from chalicelib.domain.event import Event
from chalicelib.text import messages as msg
from chalicelib.web import api, public
from tests.conftest import FORM, World, signed, valid_form
from tests.reach import Reach

Recorder = Any  # pytest's record_property

CATEGORIES = ["councillor", "civil-servant", "mayor", "company", "other"]
FIELDS = ["name", "kana", "organization", "job_title", "email", "category", "question", "consent"]

# Any JSON value, and text biased towards what breaks things: controls, CR/LF, full-width, RTL marks.
tricky_text = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(list("\r\n\t\x00\u202e\u3000＠ｱｶﾞあ<>&\"'"))), max_size=80
)
# Every JSON type a field can arrive as; one level of nesting is enough to reach each type check.
scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
json_value = (
    scalar | st.lists(scalar | tricky_text, max_size=2) | st.dictionaries(st.text(max_size=3), scalar, max_size=2)
)
submissions = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), tricky_text | json_value, max_size=9)


@pytest.mark.slow  # ten thousand cases, about 30 s: `make test` runs it, `make test-fast` does not
@settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions)
def test_validation_never_crashes_and_errors_name_real_fields(raw: dict[str, Any]) -> None:
    result = validate_registration(raw, CATEGORIES)
    assert set(result.errors) <= set(msg.FIELD_LABELS)
    assert (result.attendee is None) == bool(result.errors)
    for field, value in result.values.items():
        allowed = {"\n"} if field == "question" else set()
        assert not any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value), field
    if result.attendee is not None:
        assert "\n" not in result.attendee.name + result.attendee.email + result.attendee.organization


# Twelve thousand requests through the HTTP layer in all: 5,000 to the JSON API (4,000 JSON objects for
# its validation, 1,000 bodies that are not), 2,000 to the form and 5,000 to every route with generated
# path parameters, query strings, headers and cookies.
def http_settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )


def post_json(client: Client, slug: str, body: str | bytes) -> Any:
    """A registration through the JSON API, with the world's key (which no rate limit holds back)."""
    response = client.http.post(
        f"/api/events/{slug}/registrations",
        headers=client.world.api_headers(),  # type: ignore[attr-defined]
        body=body,
    )
    assert response.status_code not in (401, 429), "the fuzz must reach past the key check"
    assert response.status_code < 500
    if response.status_code == 422:
        assert response.json_body["errors"] and set(response.json_body["errors"]) <= set(msg.FIELD_LABELS)
    elif response.status_code >= 400:
        assert response.json_body["message"]
    return response


@pytest.fixture
def validation_reach(monkeypatch: pytest.MonkeyPatch, record_property: Recorder) -> Any:
    reach = Reach("validation (validate_registration)")
    reach.spy(monkeypatch, api, "validate_registration")
    reach.spy(monkeypatch, public, "validate_registration")
    yield reach
    line = reach.report(record_property)
    assert reach.share() >= 0.95, line


@http_settings(4_000)
@given(body=submissions.map(json.dumps))
def test_the_json_api_never_answers_5xx_and_every_4xx_says_why(
    client: Client, published: Event, validation_reach: Reach, body: str
) -> None:
    validation_reach.example()
    validation_reach.outcome(post_json(client, published.slug, body).status_code)


@pytest.fixture
def parser_reach(monkeypatch: pytest.MonkeyPatch, record_property: Recorder) -> Any:
    from chalicelib.web import http

    reach = Reach("the body parser (http.json_body)")
    reach.spy(monkeypatch, http, "json_body")
    yield reach
    line = reach.report(record_property)
    assert reach.share() >= 0.95, line


@http_settings(1_000)
@given(body=st.one_of(st.binary(max_size=200), tricky_text))
def test_the_json_api_refuses_any_body_that_is_not_json_with_a_reason(
    client: Client, published: Event, parser_reach: Reach, body: str | bytes
) -> None:
    parser_reach.example()
    parser_reach.outcome(post_json(client, published.slug, body).status_code)


form_values = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), tricky_text, max_size=9)


@http_settings(2_000)
@given(fields=form_values, genuine=st.booleans())
def test_the_form_never_answers_5xx_and_escapes_what_comes_back(
    client: Client, published: Event, validation_reach: Reach, fields: dict[str, str], genuine: bool
) -> None:
    # Validation runs on every form; half of them carry a genuine form token, so they get past the bot checks.
    validation_reach.example()
    sent = signed({**fields, "submission_id": ""}) if genuine else fields
    body = urlencode(sent, errors="surrogatepass")  # lone surrogates arrive as invalid UTF-8: a 400 too
    response = client.http.post(f"/events/{published.slug}", headers=FORM, body=body)
    validation_reach.outcome(response.status_code)
    assert response.status_code in (303, 400, 409, 200)
    page = response.body.decode("utf-8")
    assert "<script" not in page.replace('<script type="', "")  # pages have no script; a payload stays text


def test_an_oversized_body_is_refused_with_413_and_a_reason(client: Client, published: Event) -> None:
    big = json.dumps({**valid_form(), "question": "あ" * 40_000})
    response = client.http.post(
        f"/api/events/{published.slug}/registrations",
        headers=client.world.api_headers(),
        body=big,  # type: ignore[attr-defined]
    )
    assert response.status_code == 413 and "65,536" in response.json_body["message"]
    form = client.http.post(
        f"/events/{published.slug}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="question=" + "a" * 70_000,
    )
    assert form.status_code == 413 and "65,536" in form.body.decode("utf-8")


# --- every route: path parameters, query strings, headers and cookies --------------------------

ROUTES = sorted((method, path) for path, methods in app_module.app.routes.items() for method in methods)
header_names = st.sampled_from(
    ["Accept-Language", "Cookie", "Idempotency-Key", "X-Forwarded-Proto", "Host", "Origin", "Referer", "X-Anything"]
)
params = st.dictionaries(st.sampled_from(["q", "status", "token", "back", "then", "done", "out", "x"]), tricky_text)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], dict[str, str]]:
    method, template = draw(st.sampled_from(ROUTES))
    path = template
    for name in re.findall(r"\{(\w+)\}", template):
        value = draw(tricky_text | st.sampled_from(["cdo-seminar", "R000000001", "door.csv", "en", "style.css"]))
        path = path.replace("{" + name + "}", quote(value, safe="", errors="surrogatepass"))
    headers = draw(st.dictionaries(header_names, tricky_text, max_size=4))
    return method, path, draw(params), headers


@pytest.fixture
def route_reach(monkeypatch: pytest.MonkeyPatch, record_property: Recorder) -> Any:
    """Counts the requests that reached a route's own function (past API Gateway's matching of the path)."""
    reach = Reach("a route's function")
    for entries in app_module.app.routes.values():
        for entry in entries.values():
            reach.spy(monkeypatch, entry, "view_function")
    yield reach
    line = reach.report(record_property)
    assert reach.share() >= 0.8, line
    assert reach.outcomes["429"] == 0, line


@http_settings(5_000)
@given(request=requests(), signed_in=st.booleans())
def test_no_route_answers_5xx_whatever_its_path_query_headers_and_cookies(
    client: Client,
    organizer: Any,
    route_reach: Reach,
    request: tuple[str, str, dict[str, str], dict[str, str]],
    signed_in: bool,
) -> None:
    route_reach.example()
    method, path, query, headers = request
    if signed_in:  # half the requests reach past the organizer pages' session check
        headers = {**headers, "Cookie": organizer.cookie}
    url = path + ("?" + urlencode(query, errors="surrogatepass") if query else "")
    if method == "POST":
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        response = client.http.post(
            url, headers=headers, body=urlencode({"csrf": organizer.csrf, **query}, errors="surrogatepass")
        )
    else:
        response = client.http.request(method, url, headers=headers)
    route_reach.outcome(response.status_code)
    assert response.status_code < 500, (method, url, headers, response.status_code)


@pytest.fixture
def organizer(client: Client, world: World, published: Event) -> Any:
    from tests.test_organizer import ORGANIZER, sign_in

    world.let_sign_in(ORGANIZER)
    return sign_in(client, world)
