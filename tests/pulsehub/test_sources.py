"""Configured sources: read from the YAML file and the JSON variable, built by entry point,
and every mistake a ConfigError naming the file or variable, the item, the key and the fix."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.base import Connector, Kind, SourceConfig, Stream, StreamRead, Writer
from connectors.errors import ConfigError
from connectors.records import Page
from pulsehub.runtime import Runtime
from pulsehub.settings import Settings, UsageSettings, load_settings
from pulsehub.sources import build_configured, configured_sources


class EchoConnector:
    """A usage connector with no streams that keeps the options it was built with."""

    kind: Kind = "usage"
    title = "Echo"
    streams: Mapping[str, Stream] = {}
    writer: Writer | None = None
    calls = 0

    def __init__(self, config: SourceConfig) -> None:
        self.name = config.name
        self.options = config.options

    def api_usage(self) -> tuple[int, int] | None:
        return None

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: nothing to read ahead."""

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        return iter(())


def build_echo(config: SourceConfig) -> Connector:
    """The test entry point's factory: `size` must be a positive number."""
    size = config.options.get("size", 1)
    if not isinstance(size, int) or size < 1:
        raise ConfigError(f"key 'size': {size!r} is not a positive whole number — fix it")
    return EchoConnector(config)


@pytest.fixture(autouse=True)
def echo_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed entry points plus `echo`, loaded by the real EntryPoint machinery."""
    installed = registry.available()
    echo = EntryPoint("echo", f"{__name__}:build_echo", registry.GROUP)
    monkeypatch.setattr(registry, "available", lambda: {**installed, "echo": echo})


def _file(tmp_path: Path, sources: object) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(json.dumps(sources))  # JSON is YAML
    return path


def test_file_sources_come_first_then_the_variables(tmp_path, monkeypatch) -> None:
    path = _file(tmp_path, [{"name": "alpha", "connector": "echo", "options": {"size": 2}}])
    monkeypatch.setenv("PULSEHUB_SOURCES_FILE", str(path))
    monkeypatch.setenv("PULSEHUB_SOURCES", json.dumps([{"name": "beta", "connector": "echo"}]))
    sources = configured_sources(load_settings())
    assert [(s.origin, s.config.name) for s in sources] == [
        (f"{path} item 1", "alpha"),
        ("PULSEHUB_SOURCES item 1", "beta"),
    ]
    built = build_configured(sources)
    assert list(built) == ["alpha", "beta"]
    assert isinstance(built["alpha"], EchoConnector) and built["alpha"].options == {"size": 2}


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ({"name": "alpha", "connector": "nope"}, ["item 2", "'nope'", "`connector` key", "echo"]),
        ({"name": "alpha", "connector": "echo", "options": {"size": 0}}, ["item 2", "'size'"]),
        ({"name": "Alpha!", "connector": "echo"}, ["item 2", "key 'name'", "fix"]),
        ({"name": "alpha", "connector": "echo", "option": {}}, ["item 2", "key 'option'"]),
        ({"connector": "echo"}, ["item 2", "key 'name'", "Field required"]),
    ],
)
def test_a_bad_file_source_names_the_file_item_key_and_fix(tmp_path, source, named) -> None:
    path = _file(tmp_path, [{"name": "fine", "connector": "echo"}, source])
    settings = Settings(sources_file=path)
    with pytest.raises(ConfigError) as exc:
        build_configured(configured_sources(settings))
    assert str(exc.value).startswith(f"{path} item 2")
    for words in named:
        assert words in str(exc.value)


def test_a_file_that_is_not_a_list_or_not_yaml_names_the_fix(tmp_path) -> None:
    path = _file(tmp_path, {"name": "alpha", "connector": "echo"})
    with pytest.raises(ConfigError, match=r"must be a YAML list .* PULSEHUB_SOURCES_FILE"):
        configured_sources(Settings(sources_file=path))
    path.write_text("- name: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        configured_sources(Settings(sources_file=path))
    with pytest.raises(ConfigError, match=r"cannot read .* PULSEHUB_SOURCES_FILE"):
        configured_sources(Settings(sources_file=tmp_path / "missing.yaml"))


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("[{name: usage}]", "PULSEHUB_SOURCES: not valid JSON"),
        ('[{"name": "usage"}]', "PULSEHUB_SOURCES (key '0.connector')"),
    ],
)
def test_a_bad_variable_names_the_variable(monkeypatch, value, named) -> None:
    monkeypatch.setenv("PULSEHUB_SOURCES", value)
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert named in str(exc.value)


def test_a_name_used_twice_or_by_a_built_in_is_refused(tmp_path) -> None:
    path = _file(tmp_path, [{"name": "alpha", "connector": "echo"}])
    settings = Settings(sources_file=path, sources=[{"name": "alpha", "connector": "echo"}])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=f"PULSEHUB_SOURCES item 1: .* used by {path} item 1"):
        build_configured(configured_sources(settings))
    usage = Settings(
        usage=UsageSettings(base_url="http://127.0.0.1:9", token="t"),  # type: ignore[arg-type]
        sources=[{"name": "usage", "connector": "echo"}],  # type: ignore[list-item]
    )
    with pytest.raises(ConfigError, match=r"'usage' is already used by PULSEHUB_USAGE__\*"):
        Runtime(usage)


def test_runtime_builds_sources_at_start_and_runs_them_beside_injected_connectors(
    tmp_path,
) -> None:
    bad = Settings(sources=[{"name": "alpha", "connector": "echo", "options": {"size": -1}}])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=r"PULSEHUB_SOURCES item 1 \(source .alpha.\)"):
        Runtime(bad)  # at construction: before any command runs
    good = Settings(
        sources=[{"name": "alpha", "connector": "echo"}, {"name": "beta", "connector": "echo"}]  # type: ignore[list-item]
    )
    injected = object()
    rt = Runtime(good, overrides={"beta": injected})
    assert set(rt.connectors) == {"alpha", "beta"}
    assert isinstance(rt.connectors["alpha"], EchoConnector) and rt.connectors["beta"] is injected


def test_source_options_stay_out_of_the_settings_repr(monkeypatch) -> None:
    url = "postgresql://reader:canary-pw-42@warehouse/db"
    monkeypatch.setenv(
        "PULSEHUB_SOURCES",
        json.dumps([{"name": "u", "connector": "echo", "options": {"url": url}}]),
    )
    assert "canary-pw-42" not in repr(load_settings())
