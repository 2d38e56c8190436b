"""The API Gateway proxy event Lambda hands a Chalice app for `GET /events/{slug}`."""

from typing import Any


def get_event_page(slug: str) -> dict[str, Any]:
    """A minimal REST API proxy event."""
    return {
        "resource": "/events/{slug}",
        "path": f"/events/{slug}",
        "httpMethod": "GET",
        "headers": {"Host": "localhost", "Accept": "text/html"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"slug": slug},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/events/{slug}",
            "httpMethod": "GET",
            "stage": "api",
            "path": f"/api/events/{slug}",
        },
        "body": None,
        "isBase64Encoded": False,
    }
