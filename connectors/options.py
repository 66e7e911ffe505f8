"""Validating a connector's options: every mistake a ConfigError naming the key and the fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connectors.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def parse_options(model: type[M], options: Mapping[str, Any], fix: str) -> M:
    """`options` validated by `model`; a bad key is named with what is wrong and `fix`."""
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        raise ConfigError(f"{describe_keys(exc, '<options>')} — {fix}") from None


def describe_keys(exc: ValidationError, whole: str) -> str:
    """Each problem as `key 'a.b': what is wrong` (`whole` when it is the value itself)."""
    problems = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or whole
        problems.append(f"key {key!r}: {err['msg']}")
    return "; ".join(problems)
