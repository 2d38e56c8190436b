"""The domain: events, seats, registrations and attendees as values and rules; no AWS, Chalice or Jinja."""
