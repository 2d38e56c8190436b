"""The site: public pages, the JSON API and the organizer pages, each a Chalice blueprint; HTTP helpers."""
