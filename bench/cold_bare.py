"""Cold start, side B: a bare Chalice app that imports boto3, creates the same clients, serves one request."""

import boto3
from chalice.app import Chalice

from bench.proxy_event import get_event_page

bare = Chalice(app_name="bare")
session = boto3.session.Session()
clients = (session.client("dynamodb"), session.client("sesv2"))


@bare.route("/events/{slug}")
def event_page(slug: str) -> dict[str, str]:
    return {"slug": slug}


response = bare(get_event_page("cdo-seminar"), None)
assert response["statusCode"] == 200, response
