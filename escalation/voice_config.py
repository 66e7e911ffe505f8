"""The voice-of-the-customer configuration: feedback themes, who owns them, when they alert.

A YAML file (PULSEHUB_VOICE_FILE, default `escalation/default_voice.yaml`) validated here; a
mistake fails at start-up naming the file, the key and the fix. Themes are keyword rules:
a text mentions a theme when it contains one of its keywords (whole words, any case) or a
ticket carries one of its tags. Routing rules are read in order; the first whose theme and
segment match names the owner.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.options import describe_keys

log = logging.getLogger(__name__)
DEFAULT_VOICE_FILE = Path(__file__).with_name("default_voice.yaml")
VARIABLE = "PULSEHUB_VOICE_FILE"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Theme(_Strict):
    """A recurring topic: its label and the words and ticket tags that mention it."""

    label: str
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_match(self) -> Theme:
        if not self.keywords and not self.tags:
            raise ValueError("a theme needs at least one keyword or tag")
        return self

    def pattern(self) -> re.Pattern[str] | None:
        """One case-insensitive whole-word pattern of every keyword."""
        words = sorted({k.strip().lower() for k in self.keywords if k.strip()}, key=len)
        if not words:
            return None
        return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in reversed(words)) + r")\b", re.I)


class Owner(_Strict):
    """Who a routed theme goes to: a name for people, an email or crm user id for the task."""

    name: str
    email: str | None = None
    crm_user_id: str | None = None


class Route(_Strict):
    """theme and segment ("*": any) -> owner; no owner: the largest affected account's owner."""

    theme: str = "*"
    segment: str = "*"
    owner: Owner | None = None

    def matches(self, theme: str, segment: str | None) -> bool:
        return self.theme in ("*", theme) and self.segment in ("*", segment or "")


class Thresholds(_Strict):
    """When a theme has deteriorated enough to need an owner's intervention.

    It must touch at least `min_accounts` accounts this period (one vocal account never
    triggers), and either its ARR-weighted impact rose by at least `impact_rise` of the book's
    ARR to at least `impact_growth` times the previous period's, or the share of detractors
    among its NPS mentions rose by `detractor_points` points (with `min_responses` NPS
    mentions now and in the previous period).
    """

    min_accounts: int = Field(5, ge=1)
    impact_rise: float = Field(0.15, ge=0, le=1)
    impact_growth: float = Field(1.5, ge=1)
    detractor_points: float = Field(20.0, gt=0, le=100)
    min_responses: int = Field(10, ge=1)


class Task(_Strict):
    """The owner task an alert opens in the crm."""

    due_days: int = Field(5, ge=0, le=90)
    priority: str = Field("High", pattern="^(High|Normal|Low)$")


class Suggest(_Strict):
    """Suggested themes: TF-IDF + k-means over the comments and subjects no theme matched."""

    clusters: int = Field(6, ge=1, le=30)
    min_size: int = Field(4, ge=2)
    max_texts: int = Field(5000, ge=10)


class VoiceConfig(_Strict):
    """The whole file."""

    period_days: int = Field(30, ge=7, le=120)
    themes: dict[str, Theme]
    routing: list[Route] = Field(default_factory=list)
    thresholds: Thresholds = Thresholds()
    task: Task = Task()
    suggest: Suggest = Suggest()

    @model_validator(mode="after")
    def _routes_name_themes(self) -> VoiceConfig:
        for n, route in enumerate(self.routing):
            if route.theme != "*" and route.theme not in self.themes:
                raise ValueError(
                    f"routing[{n}] names theme {route.theme!r}, which is not under themes "
                    f"(themes: {', '.join(sorted(self.themes))}; '*' matches any)"
                )
        return self

    def route(self, theme: str, segment: str | None) -> Route | None:
        """The first routing rule for `theme` in `segment`."""
        return next((r for r in self.routing if r.matches(theme, segment)), None)


def load_voice(path: Path | None = None) -> VoiceConfig:
    """Read and validate a voice file (the shipped default when `path` is None)."""
    source = Path(path) if path is not None else DEFAULT_VOICE_FILE
    raw = read_yaml(source, what="voice themes file", variable=VARIABLE)
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'themes' key at the top")
    try:
        config = VoiceConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{source}: invalid voice themes file: {describe_keys(exc, '(top level)')} — "
            f"fix the file named by {VARIABLE} (the shipped default is {DEFAULT_VOICE_FILE.name})"
        ) from None
    log.debug("loaded %s voice themes from %s", len(config.themes), source)
    return config
