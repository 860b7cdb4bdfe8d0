"""Keyed hashes for API keys, personal data and comment content.

Everything is an HMAC-SHA256 with a key derived from the server secret, one derived
key per purpose, so a leaked database alone cannot be reversed by guessing (a plain
hash of an IPv4 address or a 12-hex-digit API key is brute-forced in minutes) and a
hash made for one purpose cannot be replayed for another.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from enum import StrEnum
from urllib.parse import urlsplit

from service.storage.errors import InvalidValue

_HEX_HASH = re.compile(r"^[0-9a-f]{64}$")


class ReputationKind(StrEnum):
    """What a reputation entry is about."""

    AUTHOR_NAME = "author_name"
    AUTHOR_EMAIL = "author_email"
    AUTHOR_URL_DOMAIN = "author_url_domain"
    LINK_DOMAIN = "link_domain"
    IP_PREFIX = "ip_prefix"


class Hasher:
    """HMAC-SHA256 hashing with one derived key per purpose."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if not raw:
            # Length policy (random, 32 bytes) belongs to the settings; empty is never right.
            raise InvalidValue("the storage secret must not be empty")
        self._keys = {
            purpose: hmac.new(raw, f"sluice/{purpose}".encode(), hashlib.sha256).digest()
            for purpose in ("api-key", "pii", "content", "reputation")
        }

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._keys[purpose], value.encode(), hashlib.sha256).hexdigest()

    def api_key(self, plaintext: str) -> str:
        """Hash stored for an API key; the key itself is never stored."""
        return self._mac("api-key", plaintext)

    def pii(self, value: str) -> str:
        """Salted hash of a piece of personal data, as given."""
        return self._mac("pii", value)

    def email(self, value: str) -> str:
        """Hash of an e-mail address, case and surrounding space ignored."""
        return self.pii(normalize_email(value))

    def ip(self, value: str) -> str:
        """Hash of an IP address in its canonical text form."""
        return self.pii(normalize_ip(value))

    def content(self, text: str) -> str:
        """Hash of comment text with whitespace runs collapsed, to link feedback to checks."""
        return self._mac("content", " ".join(text.split()))

    def reputation(self, kind: ReputationKind, value: str) -> str | None:
        """Hash of a reputation value after normalising it; ``None`` if it is unusable.

        An ``author_email`` may be given as the address or as its ``email`` hash
        (what a check stores when the site keeps PII hashed): both count as one.
        """
        if kind is ReputationKind.AUTHOR_EMAIL:
            text = value.strip().lower()
            normal: str | None = (
                text if _HEX_HASH.match(text) else self.email(text) if text else None
            )
        else:
            normal = normalize_reputation_value(kind, value)
        if normal is None:
            return None
        return self._mac("reputation", f"{kind.value}\x00{normal}")


def normalize_email(value: str) -> str:
    """E-mail addresses compare without case or surrounding space."""
    return value.strip().lower()


def normalize_ip(value: str) -> str:
    """Canonical text of an IP (IPv4-mapped IPv6 becomes IPv4); other text is kept stripped."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return value.strip()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def ip_prefix(value: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of an address or network, or ``None``."""
    text = value.strip()
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = network.network_address
        else:
            address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def domain_of(value: str) -> str | None:
    """Lower-case host of a URL or bare domain, without ``www.``, or ``None``."""
    text = value.strip()
    if not text:
        return None
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname
    except ValueError:  # "http://[2d]/": a bracketed host that is not IPv6, a bad netloc
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host.removeprefix("www.") or None


def normalize_reputation_value(kind: ReputationKind, value: str) -> str | None:
    """The form in which a value of ``kind`` is counted, or ``None`` if it is unusable."""
    if kind is ReputationKind.IP_PREFIX:
        return ip_prefix(value)
    if kind in (ReputationKind.AUTHOR_URL_DOMAIN, ReputationKind.LINK_DOMAIN):
        return domain_of(value)
    if kind is ReputationKind.AUTHOR_EMAIL:
        return normalize_email(value) or None
    return " ".join(value.split()).casefold() or None
