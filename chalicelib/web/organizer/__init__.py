"""The organizer pages (mounted at /organizer), one module per area; `routes` is their blueprint.

access       who may open a page: sessions, roles per route, the CSRF token, every refusal
signing_in   sign in with a mailed link, sign out
lists        the dashboard, an event's counts and list, the lists to download
desk         one registration and the desk: correct, cancel, move up, take back, add by hand, walk-ins
door         the door: who is still to come, a scanned code, checking in
messaging    messages to registrants, change notices and calling an event off
building     the event builder: a new event from a template, editing, duplicating, drafts
editor       the event file (for experts), previews, and the lifecycle: publish, delete, archive, QR
people       staff and their roles, keys for the JSON API

No page shows anything to a visitor who is not signed in, and no POST changes anything without a
token from a page served to that session: access.py checks both before a page's own code runs.
"""

from __future__ import annotations

# Imported for their routes, which register themselves on the blueprint.
from chalicelib.web.organizer import building, desk, door, editor, lists, messaging, people, signing_in
from chalicelib.web.organizer.access import routes

__all__ = ["building", "desk", "door", "editor", "lists", "messaging", "people", "routes", "signing_in"]
