"""Configured sources: the built-ins' PULSEHUB_<SYSTEM>__* blocks, then PULSEHUB_SOURCES_FILE
and PULSEHUB_SOURCES, every one built by entry point.

Each source is `{name, connector, options}`: `connector` names an entry point of the
`pulsehub.connectors` group, which validates its own options. A built-in block is the source
named like its entry point, its options the block's keys. Every error names where the source
was configured (the variables, or the file or variable and the item), the key and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from connectors.base import Connector, SourceConfig
from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.options import describe_keys
from connectors.registry import build_source
from pulsehub.settings import ENV_PREFIX, Settings, SourceSettings
from sync.writeback import LOGICAL_FIELDS, allowed_ticket_tags

FILE_VARIABLE = f"{ENV_PREFIX}SOURCES_FILE"
JSON_VARIABLE = f"{ENV_PREFIX}SOURCES"


BUILT_INS = ("salesforce", "zendesk", "usage")
READS_BACK = (
    "salesforce",
    "hubspot",
)  # crm connectors that take `read_back_fields`  # Settings blocks named like their entry points


@dataclass(frozen=True)
class ConfiguredSource:
    """A source's configuration and where it was given (for error messages)."""

    origin: str
    config: SourceConfig
    built_in: bool = False  # a PULSEHUB_<SYSTEM>__* block, validated with the settings
    primary: bool = False  # `primary: true`: first of its kind in the run (sync/instances.py)


def built_in_sources(settings: Settings) -> list[ConfiguredSource]:
    """A source per configured built-in block, its options the block's keys."""
    out = []
    for name in BUILT_INS:
        block = getattr(settings, name)
        if block.configured:
            origin = f"{ENV_PREFIX}{name.upper()}__*"
            out.append(ConfiguredSource(origin, SourceConfig(name, name, dict(block)), True))
    return out


def configured_sources(settings: Settings) -> list[ConfiguredSource]:
    """The file's sources, then the variable's, in order."""
    out: list[ConfiguredSource] = []
    if settings.sources_file is not None:
        out += _file_sources(settings.sources_file)
    for i, source in enumerate(settings.sources, start=1):
        out.append(
            ConfiguredSource(f"{JSON_VARIABLE} item {i}", source.config(), primary=source.primary)
        )
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
        out.append(ConfiguredSource(origin, source.config(), primary=source.primary))
    return out


def _describe(origin: str, exc: ValidationError) -> str:
    problems = describe_keys(exc, "<item>")
    return f"{origin}: {problems} — fix the source (keys: name, connector, options)"


def check_names(sources: list[ConfiguredSource]) -> None:
    """Every source name once: a second use names both places."""
    owners: dict[str, str] = {}
    for source in sources:
        name = source.config.name
        if name in owners:
            raise ConfigError(
                f"{source.origin}: source name {name!r} is already used by {owners[name]} "
                "— rename this source or remove the other"
            )
        owners[name] = source.origin


def build_one(source: ConfiguredSource) -> Connector:
    """The connector for one source; a ConfigError says where the source was configured."""
    try:
        return build_source(source.config)
    except ConfigError as exc:
        raise ConfigError(f"{source.origin} (source {source.config.name!r}): {exc}") from None


def build_configured(sources: list[ConfiguredSource]) -> dict[str, Connector]:
    """A connector per configured source, names checked first."""
    check_names(sources)
    return {source.config.name: build_one(source) for source in sources}


def primary_first(
    connectors: dict[str, Connector], sources: list[ConfiguredSource]
) -> dict[str, Connector]:
    """The connectors with each `primary: true` source first (sync takes the first source of
    a kind as its primary); two primaries of one kind is a ConfigError naming both."""
    flagged = {s.config.name: s.origin for s in sources if s.primary}
    kinds: dict[str, str] = {}
    for name in flagged:
        if name not in connectors:
            continue
        kind = connectors[name].kind
        if kind in kinds:
            raise ConfigError(
                f"{flagged[name]} (source {name!r}) and {flagged[kinds[kind]]} (source "
                f"{kinds[kind]!r}) are both `primary: true` {kind} sources — keep one"
            )
        kinds[kind] = name
    first = [n for n in connectors if n in flagged]
    return {n: connectors[n] for n in [*first, *(n for n in connectors if n not in flagged)]}


def wired(source: ConfiguredSource, writeback_policy: str) -> ConfiguredSource:
    """The source with the options pulsehub itself gives its connector: under "reassert" a
    crm reads back the fields it writes; a helpdesk may change only pulsehub's ticket tags."""
    config = source.config
    added: dict[str, Any] = {}
    if config.connector in READS_BACK and writeback_policy == "reassert":
        added["read_back_fields"] = list(LOGICAL_FIELDS)
    if config.connector in ("zendesk", "freshdesk"):
        added["allowed_tags"] = sorted(allowed_ticket_tags())
    if not added:
        return source
    return replace(source, config=replace(config, options={**config.options, **added}))
