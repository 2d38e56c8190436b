"""Ways to write a redirect target that a browser may take to another site, for the one redirect rule's tests."""

from __future__ import annotations

from urllib.parse import quote

EVIL = "evil.example"
PAYLOADS = [
    f"//{EVIL}",
    f"///{EVIL}",
    f"////{EVIL}",
    f"/\\{EVIL}",
    f"\\\\{EVIL}",
    f"/\\/{EVIL}",
    f"/\t/{EVIL}",
    f"/\n/{EVIL}",
    f"/\r/{EVIL}",
    f"/\r\n/{EVIL}",
    f" //{EVIL}",
    f"/ /{EVIL}",
    f"\t//{EVIL}",
    f"https://{EVIL}/",
    f"http:{EVIL}",
    f"https:/{EVIL}",
    f"//{EVIL}/%2e%2e",
    f"/%2F{EVIL}",
    f"/%2F/{EVIL}",
    f"/%5C{EVIL}",
    f"/%5c/{EVIL}",
    f"/%09/{EVIL}",
    f"/%0A/{EVIL}",
    f"/%0D%0A/{EVIL}",
    f"%2F%2F{EVIL}",
    f"/%252F%252F{EVIL}",
    f"/%25252F%25252F{EVIL}",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    f"/.//{EVIL}",
    f"/..//{EVIL}",
    f"/\u3000/{EVIL}",
    f"/\u00a0/{EVIL}",
    f"/\u2028/{EVIL}",
    f"/%E3%80%80/{EVIL}",
    f"/%C2%A0/{EVIL}",
    f"/\u202e/{EVIL}",
    f"/\x00/{EVIL}",
    f"/\x0b/{EVIL}",
    f"//{EVIL}@127.0.0.1",
    f"/events/x?next=//{EVIL}",
    f"/organizer/\\\\{EVIL}",
    f"/organizer//{EVIL}",
    f"/organizer/%2F%2F{EVIL}",
]


def corpus() -> list[str]:
    """Each payload as sent (percent-encoded once), and once more encoded, so the server sees both forms."""
    variants = []
    for payload in PAYLOADS:
        variants.append(payload)
        variants.append(quote(payload, safe=""))
    return variants
