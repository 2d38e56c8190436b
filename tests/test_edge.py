"""Requests no route handles get the site's own page, on AWS (gateway responses) and in make run alike."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.web import edge
from chalicelib.web.headers import SECURITY_HEADERS
from deploy.stage import CustomDomain, read_stage
from deploy.template import gateway_responses
from tests.conftest import World


def fetch(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def assert_site_page(headers: dict[str, Any], body: str, title_ja: str, title_en: str) -> None:
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name
    assert f"<h1>{title_ja}</h1>" in body and f"<h2>{title_en}</h2>" in body and '<div lang="en">' in body


@pytest.mark.parametrize(
    "path",
    ["/no-such-page", "/events/x/y/z/nothing", "/organizer/nope", "/api/unknown", "/static/missing.css"],
)
def test_an_unknown_path_gets_the_sites_404_page_in_make_run(local_site: str, path: str) -> None:
    status, headers, body = fetch(local_site + path)
    assert status == 404, body
    assert_site_page(headers, body, "ページが見つかりません", "Page not found")
    assert "Missing Authentication Token" not in body


def test_an_unknown_path_with_an_api_key_is_a_404_too(local_site: str) -> None:
    status, _, body = fetch(local_site + "/api/nothing", Authorization="Bearer uk_x_y")
    assert status == 404 and "Authorization header requires" not in body


def test_a_method_a_page_does_not_take_gets_a_405_page_with_allow(client: Client) -> None:
    answer = client.http.put("/")
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET"
    assert_site_page(
        answer.headers, answer.body.decode(), "この操作は受け付けていません", "This action is not accepted"
    )


def test_under_the_json_api_the_405_is_json(client: Client) -> None:
    answer = client.http.delete("/api/openapi.json")
    assert answer.status_code == 405
    assert answer.json_body["status"] == "method_not_allowed" and answer.json_body["message"]


def test_an_error_nothing_caught_gets_the_sites_500_page_and_is_logged(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any, **__: Any) -> str:
        raise RuntimeError("the index broke")

    monkeypatch.setattr("chalicelib.web.pages.index_page", broken)
    answer = client.http.get("/")
    assert answer.status_code == 500
    assert_site_page(
        answer.headers, answer.body.decode(), "ただいま表示できません", "This page cannot be shown right now"
    )
    assert "the index broke" not in answer.body.decode()  # nothing internal reaches the visitor
    assert any(record.exc_info and "the index broke" in str(record.exc_info[1]) for record in caplog.records)


def test_api_gateway_answers_with_the_same_pages_through_gateway_responses() -> None:
    stage = read_stage("example")
    responses = gateway_responses(stage, "api")
    assert set(responses) == {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert "StatusCode" not in responses["DEFAULT_5XX"]  # 502, 504, ... keep their own status
    for response in responses.values():
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Content-Type"] == "'text/html; charset=utf-8'"  # quoted: a literal, not a mapping
        for name, value in SECURITY_HEADERS.items():
            assert headers[name] == f"'{value}'"
        for page in response["ResponseTemplates"].values():
            # A response template is Velocity: no $ or # may reach it, nor a quote that ends a header value.
            assert "$" not in page and "#" not in page
            assert 'href="/api/static/style.css"' in page and '<div lang="en">' in page
    own_domain = CustomDomain("uketsuke.example.jp", "arn:aws:acm:us-east-1:1:certificate/x")
    with_domain = gateway_responses(
        read_stage("example").__class__(**{**stage.__dict__, "custom_domain": own_domain}), "api"
    )
    assert 'href="/static/style.css"' in with_domain["DEFAULT_4XX"]["ResponseTemplates"]["text/html"]


def test_every_page_the_edge_serves_is_complete_in_both_languages() -> None:
    for error in (edge.NOT_FOUND, edge.NOT_ALLOWED, edge.THROTTLED, edge.CLIENT_ERROR, edge.SERVER_ERROR):
        page = edge.edge_page(error, "")
        assert page.count("<h1>") == 1 and page.count("<h2>") == 1 and 'lang="ja"' in page
