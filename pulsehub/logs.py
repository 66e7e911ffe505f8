"""Log output for every process: plain text by default, one JSON object a line when
`PULSEHUB_LOG_FORMAT=json` (for log shippers), rendered by structlog over the stdlib handlers,
so module loggers, Celery and uvicorn all come out in the same format."""

from __future__ import annotations

import logging
import os

import structlog

from pulsehub.settings import ConfigError

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_format() -> str:
    """`PULSEHUB_LOG_FORMAT`, checked: a bad value names the variable and the choices."""
    value = os.environ.get("PULSEHUB_LOG_FORMAT", "text").strip().lower() or "text"
    if value not in FORMATS:
        raise ConfigError(
            f"PULSEHUB_LOG_FORMAT={value!r} is not a log format: set it to 'text' or 'json'"
        )
    return value


def json_formatter() -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_logging(level: int, fmt: str = "text") -> None:
    """Send the root logger's records to stderr in `fmt` at `level` (replacing its handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
