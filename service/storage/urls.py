"""Site URL normalisation, so one site is one row however its URL is typed."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from service.storage.errors import InvalidValue

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_site_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no query, no trailing slash.

    ``HTTPS://Example.COM:443/`` and ``https://example.com`` are the same site; the
    path keeps its case because servers may treat it as significant.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidValue(f"site url {url!r} is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidValue(f"site url {url!r} must start with http:// or https://")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidValue(f"site url {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue(f"site url {url!r} must not contain a user name or password")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    normal = urlunsplit((scheme, netloc, path, "", ""))
    if len(normal) > MAX_URL_LENGTH:
        raise InvalidValue(f"site url is longer than {MAX_URL_LENGTH} characters")
    return normal
