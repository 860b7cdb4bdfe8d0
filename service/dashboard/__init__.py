"""The moderation dashboard, served under ``/dashboard`` by the same app as the API.

Server-rendered pages (Jinja2) with inline SVG charts, usable without JavaScript; a small
script only saves page loads. ``routes.router`` holds every page, ``routes.static_files``
the CSS and script, and ``latency.LatencyMiddleware`` feeds the overview's latency chart.
"""
