"""The four verdicts and the cut-offs that map a spam probability onto them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What a site should do with a comment."""

    HAM = "ham"  # publish as usual
    UNSURE = "unsure"  # hold for a moderator
    SPAM = "spam"  # spam folder
    DISCARD = "discard"  # blatant: may be dropped without review

    @property
    def is_spam(self) -> bool:
        return self in (Verdict.SPAM, Verdict.DISCARD)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Thresholds ``unsure <= spam <= discard``; a score on a threshold takes the higher verdict."""

    unsure: float
    spam: float
    discard: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.unsure <= self.spam <= self.discard <= 1.0:
            raise ValueError(
                "cut-offs must satisfy 0 <= unsure <= spam <= discard <= 1, "
                f"got unsure={self.unsure}, spam={self.spam}, discard={self.discard}"
            )

    def verdict(self, score: float) -> Verdict:
        if score >= self.discard:
            return Verdict.DISCARD
        if score >= self.spam:
            return Verdict.SPAM
        if score >= self.unsure:
            return Verdict.UNSURE
        return Verdict.HAM

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
