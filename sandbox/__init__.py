"""Simulators of Salesforce REST, Zendesk Support and a usage API over a synthetic customer base.

Tests, the demo wiring and benchmarks import this; production code never does.
"""

from sandbox.cli import cli_main
from sandbox.core import Sandbox
from sandbox.faults import Faults
from sandbox.limits import Limits

__all__ = ["Faults", "Limits", "Sandbox", "cli_main"]
