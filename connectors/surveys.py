"""Survey responses as any source delivers them: the record, its scales, and data minimization.

Scales (what a source must send; anything else is quarantined with the reason):
  nps   0-10, "how likely are you to recommend us" (promoter 9-10, passive 7-8, detractor 0-6)
  ces   1-7, "the company made it easy to handle my issue" (1 strongly disagree .. 7 strongly agree)
  csat  1-5 (1 very dissatisfied .. 5 very satisfied), or "good" / "bad" (stored as 5 / 1)

Verbatims (`comment`) are minimized before they are validated, so neither a stored record nor
a quarantined one keeps more than the setting allows:
  keep    the comment as the respondent wrote it
  redact  email addresses and phone numbers in the comment replaced by [email] / [phone]
          (the respondent's address is kept: it is whom the CSM follows up with)
  drop    no comment text and no respondent address stored at all
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AliasChoices, Field, model_validator

from connectors.records import AwareDatetime, OptDatetime, OptStr, Record

SurveyKind = Literal["nps", "ces", "csat"]
Verbatims = Literal["keep", "redact", "drop"]
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "ces": (1, 7), "csat": (1, 5)}
CSAT_WORDS = {"good": 5.0, "bad": 1.0}
MAX_COMMENT = 4000

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# international or national numbers of 7+ digits, with spaces, dots, dashes or brackets
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d[\d\s().-]{5,}\d(?![\w])")


_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def redact(text: str) -> str:
    """`text` with email addresses and phone numbers (7+ digits; not dates) replaced."""
    text = _EMAIL.sub("[email]", text)

    def phone(m: re.Match[str]) -> str:
        found = m.group().strip()
        return m.group() if _digits(found) < 7 or _DATE.fullmatch(found) else "[phone]"

    return _PHONE.sub(phone, text)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


RESPONDENT_KEYS = ("respondent", "respondent_email", "email")


def minimize(row: dict[str, Any], mode: Verbatims, keys: tuple[str, ...]) -> dict[str, Any]:
    """`row` with its free-text `keys` redacted, or dropped with the respondent's address."""
    if mode == "keep" or not isinstance(row, dict):
        return row
    out = dict(row)
    for key in keys:
        value = out.get(key)
        if mode == "drop":
            out.pop(key, None)
        elif isinstance(value, str):
            out[key] = redact(value)
    if mode == "drop":
        for key in RESPONDENT_KEYS:
            out.pop(key, None)
    return out


class SurveyAnswer(Record):
    """One survey response; its account is named by a crm account, workspace or organization id."""

    id: str = Field(min_length=1, max_length=64)
    kind: SurveyKind
    score: float
    comment: OptStr = None
    responded_at: AwareDatetime
    respondent: OptStr = Field(
        default=None, validation_alias=AliasChoices("respondent", "respondent_email", "email")
    )
    crm_account_id: OptStr = Field(
        default=None, validation_alias=AliasChoices("crm_account_id", "salesforce_account_id")
    )
    workspace_id: OptStr = None
    organization_id: OptStr = None
    updated_at: OptDatetime = None

    @model_validator(mode="before")
    @classmethod
    def _words(cls, data: Any) -> Any:
        """Ids and CSAT words as sent: a numeric id as text, "good"/"bad" as 5/1."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key in ("id", "workspace_id", "organization_id"):
            if isinstance(out.get(key), int) and not isinstance(out.get(key), bool):
                out[key] = str(out[key])
        kind, score = out.get("kind"), out.get("score")
        if isinstance(kind, str):
            out["kind"] = kind = kind.strip().lower()
        if kind == "csat" and isinstance(score, str) and score.lower() in CSAT_WORDS:
            out["score"] = CSAT_WORDS[score.lower()]
        return out

    @model_validator(mode="after")
    def _on_scale(self) -> SurveyAnswer:
        low, high = SCALES[self.kind]
        if not low <= self.score <= high or self.score != int(self.score):
            raise ValueError(
                f"{self.kind} score must be a whole number {low}-{high}, not {self.score}"
            )
        if not (self.crm_account_id or self.workspace_id or self.organization_id):
            raise ValueError(
                "names no account: needs crm_account_id, workspace_id or organization_id"
            )
        if self.comment is not None and len(self.comment) > MAX_COMMENT:
            object.__setattr__(self, "comment", self.comment[:MAX_COMMENT])
        return self
