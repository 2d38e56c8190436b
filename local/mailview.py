"""A local mail viewer: every e-mail moto's SES accepted, with its text, HTML and attachments."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from collections.abc import Callable
from email.message import EmailMessage
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=select_autoescape(default=True),
)
_MESSAGE = re.compile(r"^/messages/(\d+)$")
_ATTACHMENT = re.compile(r"^/messages/(\d+)/attachments/(\d+)$")
_RAW = re.compile(r"^/messages/(\d+)/raw$")
_HTML = re.compile(r"^/messages/(\d+)/html$")
# The HTML part alone, as a mail program shows it: its attached images, nothing from anywhere else, no script.
_HTML_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def parse(raw: str) -> EmailMessage:
    """A raw message as SES received it, parsed."""
    return email.message_from_string(raw, policy=email.policy.default)


def summary(number: int, message: EmailMessage) -> dict[str, Any]:
    """What the list shows for one message."""
    return {"number": number, "to": message["To"], "from": message["From"], "subject": message["Subject"]}


def detail(number: int, message: EmailMessage) -> dict[str, Any]:
    """Everything the detail page shows."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        **summary(number, message),
        "reply_to": message["Reply-To"],
        "text": text.get_content() if text else "",
        "html": with_attached_images(html.get_content(), message) if html else "",
        "attachments": [
            {"index": i, "filename": part.get_filename() or f"attachment-{i}", "type": part.get_content_type()}
            for i, part in enumerate(message.iter_attachments())
        ],
    }


def with_attached_images(html: str, message: EmailMessage) -> str:
    """The HTML with the attached images shown below it (as data: URLs, named by file), as mail programs show them."""
    shown = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if part.get_content_maintype() == "image" and isinstance(payload, bytes):
            data = base64.b64encode(payload).decode("ascii")
            name = escape(part.get_filename() or "")
            shown.append(f'<p><img src="data:{part.get_content_type()};base64,{data}" alt="{name}"></p>')
    return html.replace("</body>", "".join(shown) + "</body>") if "</body>" in html else html + "".join(shown)


def make_handler(messages: Callable[[], list[str]]) -> type[BaseHTTPRequestHandler]:
    """A request handler reading raw messages from `messages()` on every request."""

    class MailViewHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            raws = messages()
            if self.path in ("/", ""):
                items = [summary(n, parse(raw)) for n, raw in enumerate(raws)]
                self._send(200, _TEMPLATES.get_template("mail_list.html").render(items=list(reversed(items))))
                return
            for pattern in (_MESSAGE, _ATTACHMENT, _RAW, _HTML):
                match = pattern.match(self.path)
                if match and int(match.group(1)) < len(raws):
                    number = int(match.group(1))
                    if pattern is _RAW:
                        self._send(200, raws[number], "text/plain; charset=utf-8")
                    elif pattern is _HTML:
                        html = str(detail(number, parse(raws[number]))["html"])
                        self._send(200, html, headers={"Content-Security-Policy": _HTML_POLICY})
                    elif pattern is _MESSAGE:
                        self._message(parse(raws[number]), number)
                    else:
                        self._attachment(parse(raws[number]), int(match.group(2)))
                    return
            self._send(404, "not found", "text/plain; charset=utf-8")

        def _message(self, message: EmailMessage, number: int) -> None:
            self._send(200, _TEMPLATES.get_template("mail_detail.html").render(mail=detail(number, message)))

        def _attachment(self, message: EmailMessage, index: int) -> None:
            parts = list(message.iter_attachments())
            if index >= len(parts):
                self._send(404, "not found", "text/plain; charset=utf-8")
                return
            part = parts[index]
            payload = part.get_payload(decode=True)
            self._send(200, payload if isinstance(payload, bytes) else b"", part.get_content_type())

        def _send(
            self,
            status: int,
            body: str | bytes,
            content_type: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep the terminal for the runner's own lines

    return MailViewHandler


def serve(host: str, port: int, messages: Callable[[], list[str]]) -> ThreadingHTTPServer:
    """A started-but-not-yet-serving viewer; call serve_forever() in a thread."""
    return ThreadingHTTPServer((host, port), make_handler(messages))
