"""`pulsehub sandbox serve`: run the sandbox in the foreground and print how to connect."""

from __future__ import annotations

import json
import threading

from sandbox import credentials
from sandbox.core import Sandbox


def cli_main(port: int = 8765, accounts: int = 200, seed: int = 7, faults: str = "none") -> None:
    """Serve until Ctrl-C, after printing the base URL and the sandbox credentials."""
    sb = Sandbox(accounts=accounts, seed=seed, faults=faults, port=port)
    sb.start()
    print(
        f"pulsehub sandbox serving on {sb.base_url}  (accounts={accounts} seed={seed} faults={faults})"
    )
    print("credentials (fake, sandbox only):")
    print(json.dumps(credentials.describe(sb.base_url), indent=2))
    print(
        "control API: GET/POST",
        f"{sb.base_url}/_sandbox/{{requests,writes,clear,advance,faults,truth,counts}}",
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        sb.stop()
