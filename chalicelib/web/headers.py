"""Security headers every HTTP response carries."""

from __future__ import annotations

# Pages load only the app's own stylesheet, run no script and post only to themselves.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",  # the organizer's logo travels inline (usecases/branding.py)
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    # A registration page's URL holds its id: it must not travel to the map or venue site in a Referer.
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000",
}

# Pages about one registration are personal: no shared cache may keep them.
PRIVATE = {"Cache-Control": "no-store"}
