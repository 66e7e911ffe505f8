"""Read a YAML configuration file: an unreadable file or bad syntax is one line naming the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from connectors.errors import ConfigError


def read_yaml(
    path: Path, *, what: str, variable: str, error: type[ConfigError] = ConfigError
) -> Any:
    """Parse `path`; failures raise `error` naming the file, the line and the fix."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise error(
            f"{path}: cannot read the {what} ({reason}) — fix {variable} "
            "or unset it to use the shipped default"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({yaml_problem(exc)}) — fix the syntax") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """The parser's complaint and where it is, on one line (PyYAML's own text spans five)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem
