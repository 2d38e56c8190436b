"""The check-in QR code: PNG attached to seat mails (mail shows no SVG), inline SVG for the registrant's own page.

segno is imported inside each function: only seat mails and the registrant's own page draw one.
"""

from __future__ import annotations


def qr_filename(number: str) -> str:
    """The attached QR code's file name: the registration number, so a saved image says whose it is."""
    return f"check-in-{number}.png"


def qr_png(url: str) -> bytes:
    """The URL as a QR code image for e-mail (PNG: mail programs do not show SVG)."""
    import io

    import segno  # imported here: only seat mails need it

    buffer = io.BytesIO()
    # Error level M survives a cracked phone screen; scale 6 with a 4-module border scans from arm's length.
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def qr_svg(url: str, label: str) -> str:
    """The URL as an inline SVG QR code for the registrant's own page, named for screen readers."""
    import segno

    svg = segno.make(url, error="m", micro=False).svg_inline(
        scale=5, border=4, title=label, svgclass="qr", lineclass=None
    )
    # role=img makes screen readers announce the <title> as the image's name instead of skipping it.
    return str(svg).replace("<svg ", '<svg role="img" ', 1)
