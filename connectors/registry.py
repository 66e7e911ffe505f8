"""Connectors found by entry point: a package adds a system by declaring one in the
`pulsehub.connectors` group, e.g. in its pyproject.toml:

    [project.entry-points."pulsehub.connectors"]
    warehouse = "connectors.warehouse:build"

The entry point names a `ConnectorFactory`: it takes the source's `SourceConfig` and returns
a `Connector`, validating its own options (a bad one raises `ConfigError`).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector, ConnectorFactory, SourceConfig
from connectors.errors import ConfigError

GROUP = "pulsehub.connectors"


def available() -> dict[str, EntryPoint]:
    """Every connector entry point installed, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_factory(name: str) -> ConnectorFactory:
    found = available()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(
            f"no connector named {name!r} is installed (entry point group {GROUP!r}; "
            f"installed: {known}): fix the source's `connector` key or install its package"
        )
    factory: ConnectorFactory = found[name].load()
    return factory


def build_source(config: SourceConfig) -> Connector:
    """The connector for one configured source."""
    connector = load_factory(config.connector)(config)
    if connector.name != config.name:
        raise ConfigError(
            f"connector {config.connector!r} built source {connector.name!r}, "
            f"configured as {config.name!r}: a factory must keep the configured name"
        )
    return connector
