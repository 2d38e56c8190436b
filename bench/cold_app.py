"""Cold start, side A: import uketsuke's app and serve its first request (the event page)."""

import app
from bench.proxy_event import get_event_page

response = app.app(get_event_page("cdo-seminar"), None)
assert response["statusCode"] == 200, response
