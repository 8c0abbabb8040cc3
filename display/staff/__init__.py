"""Staff pages: reports, live monitor and evaluation of sites.

A client of the API like the other pages: the handlers render HTML shells after
checking that the site exists; the ES modules under `static/` log the user in and read
everything over `/api/v1` and the event websocket (docs/staff-pages.md)."""
