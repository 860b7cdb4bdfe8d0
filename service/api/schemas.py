"""JSON API schemas, kept apart from storage tables; every input is bounded."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# One definition serves validation and the OpenAPI schema, so clients and fuzzers see the rule.
NO_NUL_PATTERN = r"^[^\x00]*$"
# Content is described by a format of its own: a pattern for "not only white space" would
# be long (str.isspace() spelt out) and makes schema-driven test generators crawl.
CONTENT_FORMAT = "comment-text"
URL_PATTERN = (
    r"^(?:[Hh][Tt][Tt][Pp][Ss]?://"  # http:// or https://, then a host name or [IPv6]
    # host: letters, digits, "-", "." and any non-ASCII letter; written as a negated class
    # because test generators enumerate every code point of a range
    r"(?:[^\x00-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xa0]+|\[[0-9A-Fa-f:.]+\])"
    r"(?::[0-9]{1,5})?"  # a port
    r"(?:[/?#][^\x00-\x20\x7f\\<>\"`]*)?"  # path, query, fragment: no spaces or quotes
    r")?$"  # or empty
)
_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
# A site's own URL: an ASCII host name (IDN in its xn-- form), as sites are stored.
SITE_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9][A-Za-z0-9.-]*"
    + _PORT
    + r"(?:[/?#][^\x00-\x20\x7f\\<>\"`]*)?$"
)
_URL = re.compile(URL_PATTERN)
_SITE_URL = re.compile(SITE_URL_PATTERN)


def _no_nul(value: str) -> str:
    """NUL cannot be stored in PostgreSQL text and has no place in a comment."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host, or empty (the platform knows none)."""
    if not _URL.search(value):
        raise ValueError(
            "must be an http:// or https:// URL with a host and no spaces or quotes, or empty"
        )
    return value


def _site_url(value: str) -> str:
    if not _SITE_URL.search(value):
        raise ValueError("must be an http:// or https:// URL with an ASCII host name")
    return value


Text = Annotated[str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": NO_NUL_PATTERN})]
Short = Annotated[Text, Field(max_length=512)]
UrlText = Annotated[
    str,
    Field(max_length=2048, json_schema_extra={"pattern": URL_PATTERN}),
    AfterValidator(_http_url),
]
SiteUrl = Annotated[
    str,
    Field(min_length=1, max_length=2048, json_schema_extra={"pattern": SITE_URL_PATTERN}),
    AfterValidator(_site_url),
]
IP_FORMAT = "ip-address"  # IPv4 or IPv6 (or empty); "anyOf" of both formats trips fuzzers
_DATE = "ISO 8601 date and time in the years 1990 to 2200"


class CommentIn(BaseModel):
    """A comment as a blog platform sees it; only ``content`` is required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    content: Annotated[
        str,
        Field(
            min_length=1,
            max_length=65_536,
            description="the comment: some text that is not white space, without NUL",
            json_schema_extra={"format": CONTENT_FORMAT},
        ),
    ]
    author_name: Short | None = None
    author_email: Annotated[Text, Field(max_length=320)] | None = None
    author_url: UrlText | None = None
    user_ip: (
        Annotated[
            str,
            Field(
                max_length=64,
                description="the commenter's IPv4 or IPv6 address, or empty",
                json_schema_extra={"format": IP_FORMAT},
            ),
        ]
        | None
    ) = None
    user_agent: Annotated[Text, Field(max_length=1024)] | None = None
    referrer: UrlText | None = None
    permalink: UrlText | None = None
    comment_type: Annotated[Text, Field(max_length=64)] | None = None
    lang: Annotated[Text, Field(max_length=64)] | None = None
    created_at: Annotated[datetime, Field(description=_DATE)] | None = None
    post_published_at: Annotated[datetime, Field(description=_DATE)] | None = None
    honeypot: Annotated[Text, Field(max_length=1024)] | None = None
    site: UrlText | None = None

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content is empty or only whitespace")
        if "\x00" in value:
            raise ValueError("content contains a NUL character")
        return value

    @field_validator("user_ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from exc
        return value

    @field_validator("created_at", "post_published_at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        if value is not None and not 1990 <= value.year <= 2200:
            raise ValueError("date must be between the years 1990 and 2200")
        return value

    def record(self) -> dict[str, str]:
        """The comment as the model's input record (dates as ISO text, absent fields empty)."""
        fields = self.model_dump(exclude={"site"})
        return {
            name: value.isoformat() if isinstance(value, datetime) else (value or "")
            for name, value in fields.items()
        }


class ReasonOut(BaseModel):
    feature: str = Field(description="machine name of the signal")
    label: str = Field(description="what the signal means, for a moderator")
    weight: float = Field(description="share of the verdict in log-odds; > 0 towards spam")


class CheckOut(BaseModel):
    id: str = Field(description="check id; send it back with feedback")
    spam: bool = Field(description="true when the verdict is spam or discard")
    score: float = Field(ge=0, le=1, description="probability that the comment is spam")
    verdict: Literal["ham", "unsure", "spam", "discard"]
    reasons: list[ReasonOut]
    model_version: str


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comments: Annotated[list[CommentIn], Field(min_length=1)]


class BatchOut(BaseModel):
    results: list[CheckOut]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Literal["spam", "ham"] = Field(description="what the comment really is")
    reporter: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="who made the call (moderator login)"
    )
    comment: CommentIn | None = Field(
        None, description="the comment's fields, when the stored check no longer has them"
    )


class FeedbackOut(BaseModel):
    id: int | None = Field(description="the stored correction's id; null while it is queued")
    check_id: str | None
    label: Literal["spam", "ham"]
    original_verdict: Literal["ham", "unsure", "spam", "discard"] | None
    queued: bool = Field(
        False, description="true when spooled during a database outage (stored later)"
    )


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    error: str
    message: str
    details: list[ErrorDetail] = []
