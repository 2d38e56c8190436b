"""uketsuke's Chalice app: wiring only. Each handler lives in the module named after its part of the site.

chalicelib/web/public.py      the attendee's pages        chalicelib/web/api.py    the JSON API
chalicelib/web/attendance.py  出欠の再確認's two answers
chalicelib/web/organizer/     the organizer's pages       chalicelib/jobs/         schedules, stream, SNS
chalicelib/web/openapi.py     the JSON API's description
"""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.config.services import Services, use
from chalicelib.jobs.schedules import jobs
from chalicelib.web import api, attendance, openapi, organizer, public
from chalicelib.web.edge import friendly_errors
from chalicelib.web.middleware import language, refuse_what_is_not_text, request_lines, security_headers

app = Chalice(app_name="uketsuke")
app.register_middleware(request_lines, "http")  # first: outside the rest, so its line sees every answer
app.register_middleware(security_headers, "http")
app.register_middleware(friendly_errors, "http")
app.register_middleware(language, "http")
app.register_middleware(refuse_what_is_not_text, "http")
app.register_blueprint(public.routes)
app.register_blueprint(attendance.routes)
app.register_blueprint(api.routes)
app.register_blueprint(openapi.routes)
app.register_blueprint(organizer.routes, url_prefix="/organizer")
app.register_blueprint(jobs)


def use_services(replacement: Services | None) -> None:
    """Swap the collaborators (tests and the local runner)."""
    use(replacement)
