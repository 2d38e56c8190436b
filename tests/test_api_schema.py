"""The JSON API against its own OpenAPI document, with schemathesis generating the requests (property-based).

The app is served over HTTP on the local engines; schemathesis reads /api/openapi.json from it and
sends each operation generated requests, valid and not, with the world's API key, checking every
answer against the document: no 5xx, only documented statuses, content types, headers and bodies.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chalicelib.domain.event import SLUG_PATTERN, Event
from tests.conftest import World
from tests.reach import Reach


@pytest.fixture
def site(local_site: str, published: Event) -> str:
    return local_site


# What the schema says in words only: which categories an event offers, that a reading is katakana (after
# converting hiragana and half-width), which addresses mail servers take. Schema-valid data may be refused
# for those alone (422 naming only those fields); every other schema-valid request must be accepted.
BEYOND_THE_SCHEMA = {"category", "kana", "email"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_own_description(
    site: str,
    world: World,
    published: Event,
    mode: GenerationMode,
    record_property: Any,
) -> None:
    # Schemathesis's own pytest plugin cannot bind to this pytest; its strategies run under Hypothesis here.
    api = schemathesis.openapi.from_url(f"{site}/api/openapi.json")
    key = {"Authorization": world.api_headers()["Authorization"]}
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} == {"GET /api/events/{slug}", "POST /api/events/{slug}/registrations"}
    statuses: list[int] = []
    # Valid requests are about the code behind the key check; broken ones about the refusals themselves.
    reach = Reach("the code behind the key check" if mode is GenerationMode.POSITIVE else "a refusal")
    for operation in operations:

        @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def keeps_to_it(case: Any) -> None:
            reach.example()
            if mode is GenerationMode.NEGATIVE:
                # Schemathesis breaks one part of the request and expects a refusal. The key is sent (the key
                # check has tests of its own): without it every broken request stopped at 401 before validation.
                # A well-formed slug is not the broken part: it names the real event, or every request
                # ended at 404 before the body was read.
                slug = (case.path_parameters or {}).get("slug")
                if isinstance(slug, str) and SLUG_PATTERN.match(slug):
                    case.path_parameters = {**case.path_parameters, "slug": published.slug}
                statuses.append(case.call_and_validate(headers=key).status_code)
                reach.outcome(statuses[-1])
                if statuses[-1] >= 400:
                    reach.hit()
                return
            # Valid requests, with a key, about the event that exists; what the schema says only in words
            # (the event's categories, a katakana reading) filled in, so that valid data can get through.
            case.path_parameters = {**(case.path_parameters or {}), "slug": published.slug}
            if isinstance(case.body, dict):
                case.body = {**case.body, "category": published.categories[len(case.body) % 5].key, "kana": "テスト"}
            response = case.call_and_validate(headers=key, excluded_checks=[positive_data_acceptance])
            statuses.append(response.status_code)
            reach.outcome(response.status_code)
            if response.status_code not in (401, 403, 415, 429):
                reach.hit()
            answer = response.json()
            if response.status_code == 422 and answer["status"] == "idempotency_key_reused":
                return  # generated requests share generated keys: refusing the second is the point
            if response.status_code == 422:
                assert set(answer["errors"]) <= BEYOND_THE_SCHEMA, (case.body, answer)
            else:
                assert response.status_code < 300 or response.status_code == 409, response.text

        keeps_to_it()
    line = reach.report(record_property)
    assert 429 not in statuses, line
    # Valid requests must get past the key; broken ones are refused wherever they are broken (an unknown
    # header or the like may rightly be accepted, so their floor is lower).
    assert reach.share() >= (0.95 if mode is GenerationMode.POSITIVE else 0.8), line
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses and 201 in statuses  # valid data really got through, not only refusals


def test_the_description_is_openapi_3_1_and_names_every_status(client: Any, world: World) -> None:
    document = client.http.get("/api/openapi.json").json_body
    assert document["openapi"] == "3.1.0"
    register = document["paths"]["/api/events/{slug}/registrations"]["post"]
    assert set(register["responses"]) == {
        "200",
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "415",
        "422",
        "429",
        "503",
    }
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
