"""Configured sources: read from PULSEHUB_SOURCES_FILE and PULSEHUB_SOURCES, built by entry point.

Each source is `{name, connector, options}`: `connector` names an entry point of the
`pulsehub.connectors` group, which validates its own options. Every error names where the
source was configured (the file or the variable, and the item), the key and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from connectors.base import Connector, SourceConfig
from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.registry import build_source
from pulsehub.settings import ENV_PREFIX, Settings, SourceSettings

FILE_VARIABLE = f"{ENV_PREFIX}SOURCES_FILE"
JSON_VARIABLE = f"{ENV_PREFIX}SOURCES"


@dataclass(frozen=True)
class ConfiguredSource:
    """A source's configuration and where it was given (for error messages)."""

    origin: str
    config: SourceConfig


def configured_sources(settings: Settings) -> list[ConfiguredSource]:
    """The file's sources, then the variable's, in order."""
    out: list[ConfiguredSource] = []
    if settings.sources_file is not None:
        out += _file_sources(settings.sources_file)
    for i, source in enumerate(settings.sources, start=1):
        out.append(ConfiguredSource(f"{JSON_VARIABLE} item {i}", source.config()))
    return out


def _file_sources(path: Any) -> list[ConfiguredSource]:
    data = read_yaml(path, what="sources file", variable=FILE_VARIABLE)
    if not isinstance(data, list):
        raise ConfigError(
            f"{path}: the sources file must be a YAML list of {{name, connector, options}} "
            f"— fix the file or unset {FILE_VARIABLE}"
        )
    out = []
    for i, item in enumerate(data, start=1):
        origin = f"{path} item {i}"
        try:
            source = SourceSettings.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(_describe(origin, exc)) from None
        out.append(ConfiguredSource(origin, source.config()))
    return out


def _describe(origin: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "<item>"
        problems.append(f"key {key!r}: {err['msg']}")
    return f"{origin}: {'; '.join(problems)} — fix the source (keys: name, connector, options)"


def build_configured(
    sources: list[ConfiguredSource], taken: Mapping[str, str]
) -> dict[str, Connector]:
    """A connector per configured source; `taken` maps names already in use to their owner."""
    owners = dict(taken)
    out: dict[str, Connector] = {}
    for source in sources:
        name = source.config.name
        if name in owners:
            raise ConfigError(
                f"{source.origin}: source name {name!r} is already used by {owners[name]} "
                "— rename this source or remove the other"
            )
        try:
            out[name] = build_source(source.config)
        except ConfigError as exc:
            raise ConfigError(f"{source.origin} (source {name!r}): {exc}") from None
        owners[name] = source.origin
    return out
