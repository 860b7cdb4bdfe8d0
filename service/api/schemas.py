"""JSON API schemas, kept apart from storage tables; every input is bounded."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\<>\"`]")


def _no_nul(value: str) -> str:
    """NUL cannot be stored in PostgreSQL text and has no place in a comment."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host, or empty (the platform knows none)."""
    if not value:
        return value
    if _URL_FORBIDDEN.search(value):
        raise ValueError("is not a URL: contains spaces, control characters or quotes")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host, or empty")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Short = Annotated[Text, Field(max_length=512)]
UrlText = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]


class CommentIn(BaseModel):
    """A comment as a blog platform sees it; only ``content`` is required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    content: Annotated[str, Field(min_length=1, max_length=65_536)]
    author_name: Short | None = None
    author_email: Annotated[Text, Field(max_length=320)] | None = None
    author_url: UrlText | None = None
    user_ip: Annotated[str, Field(max_length=64)] | None = None
    user_agent: Annotated[Text, Field(max_length=1024)] | None = None
    referrer: UrlText | None = None
    permalink: UrlText | None = None
    comment_type: Annotated[Text, Field(max_length=64)] | None = None
    lang: Annotated[Text, Field(max_length=64)] | None = None
    created_at: datetime | None = None
    post_published_at: datetime | None = None
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
                ipaddress.ip_address(value.strip())
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
    id: int
    check_id: str | None
    label: Literal["spam", "ham"]
    original_verdict: Literal["ham", "unsure", "spam", "discard"] | None


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    error: str
    message: str
    details: list[ErrorDetail] = []
