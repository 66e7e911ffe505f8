"""`pulsehub sandbox serve`: run the sandbox in the foreground and print how to connect."""

from __future__ import annotations

import json
import threading

from sandbox import credentials
from sandbox.core import Sandbox


def cli_main(
    port: int = 8765,
    accounts: int = 200,
    seed: int = 7,
    faults: str = "none",
    *,
    stop: threading.Event | None = None,
) -> None:
    """Serve until Ctrl-C (or `stop` is set), after printing the base URL and the credentials."""
    sb = Sandbox(accounts=accounts, seed=seed, faults=faults, port=port)
    sb.start()
    print(
        f"pulsehub sandbox serving on {sb.base_url}  (accounts={accounts} seed={seed} faults={faults})"
    )
    print("credentials (fake, sandbox only):")
    print(json.dumps(credentials.describe(sb.base_url), indent=2))
    print(
        f"control API: {sb.base_url}/_sandbox/ (requests, writes, clear, advance, faults, truth, counts)"
    )
    print("control API ready", flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        sb.stop()
