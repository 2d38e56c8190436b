"""uketsuke's code, in layers; imports point down this list only (tests/test_architecture.py checks it).

    web, jobs    entry points: the site's routes (public pages, JSON API, organizer pages) and the
                 schedules, stream and SNS handlers. Each is a Chalice blueprint that app.py registers.
    config       the composition root: settings from the environment and the services built from them.
    mail         composing, rendering and sending outbox mail (the only code that talks to SES).
    usecases     what people and jobs do: register, cancel, move up, draw, close, remind, check in...
    store        the DynamoDB adapter, the table's key schema, the retry policy for lost races.
    telemetry    one JSON log line per request, job run and mail, with the business counts as metrics.
    templating   the one Jinja environment (autoescaping, compiled ahead of packaging): above the domain,
                 whose moments, questions and site its filters read; below all that renders.
    domain       events, the seat ledger, registrations, attendees, time, ids and signed links: no AWS,
                 no Chalice, no Jinja.
    text         languages, every sentence, how dates are written.

templates/, locale/ and static/ are data beside the packages (Chalice ships all of chalicelib/).
"""
