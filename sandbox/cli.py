"""`pulsehub sandbox serve`: run the sandbox in the foreground and print how to connect.

`clock` is `real` (follow this machine's clock) or a fixed ISO start, so reproducible runs need
no wrapper. `print_env` prints a shell block of `export PULSEHUB_...=...` lines for every
variable pulsehub needs to use this sandbox; every other line is then a `#` comment, so the
whole output can be evaluated by a shell.
"""

from __future__ import annotations

import json
import shlex
import threading

from sandbox import credentials
from sandbox.clock import WallClock, parse_clock
from sandbox.core import Sandbox
from sandbox.generate import build_world
from sandbox.second_helpdesk import split_helpdesk
from sandbox.subjects import SubjectMaker


def cli_main(
    port: int = 8765,
    accounts: int = 200,
    seed: int = 7,
    faults: str = "none",
    *,
    clock: str = "real",
    print_env: bool = False,
    stop: threading.Event | None = None,
    second_helpdesk_port: int | None = None,
    export_per_minute: int = 100,
    subjects: str = "templates",
) -> None:
    """Serve until Ctrl-C (or `stop` is set), after printing the base URL and the credentials.

    With `second_helpdesk_port`, a second helpdesk instance over the same customers (an
    acquired company's, sandbox/second_helpdesk.py) is served on that port too, and the
    source that reads it is printed (PULSEHUB_SOURCES).

    `export_per_minute` is the Zendesk incremental exports' budget a minute, served and printed.
    `subjects="helpdesk"` serves mostly distinct, helpdesk-like ticket subjects (sandbox/subjects.py)
    instead of the dozen templates.

    Raises ValueError (naming the option and the fix) for a bad `clock` before generating.
    """
    start = parse_clock(clock)
    second: Sandbox | None = None
    if second_helpdesk_port is None:
        sb = Sandbox(accounts=accounts, seed=seed, faults=faults, port=port, now=start)
    else:
        world = build_world(accounts, seed, start)
        if start is None:  # real time, as a Sandbox built without a world follows it
            world.clock = WallClock.following(world.clock)
        acquired = split_helpdesk(world)
        sb = Sandbox(world=world, faults=faults, port=port)
        second = Sandbox(world=acquired, faults=faults, port=second_helpdesk_port).start()
    for served in (sb, second):
        if served is not None:
            served.limits.zd_incremental_per_minute = export_per_minute
            if subjects == "helpdesk":
                served.world.subjects = SubjectMaker(seed)
    sb.start()
    note = "# " if print_env else ""
    clock_text = "real" if start is None else start.isoformat()
    print(
        f"{note}pulsehub sandbox serving on {sb.base_url}  "
        f"(accounts={accounts} seed={seed} faults={faults} clock={clock_text} subjects={subjects})"
    )
    if print_env:
        env = credentials.pulsehub_env(sb.base_url, sb.limits.zd_incremental_per_minute)
        if second is not None:
            source = credentials.second_helpdesk_source(
                second.base_url, sb.limits.zd_incremental_per_minute
            )
            env["PULSEHUB_SOURCES"] = json.dumps([source])
        print("# fake credentials (sandbox only): paste these lines, or eval the output")
        for name, value in env.items():
            print(f"export {name}={shlex.quote(value)}")
        hubspot = json.dumps([credentials.hubspot_source(sb.base_url)])
        print("# HubSpot instead of Salesforce as the crm: unset PULSEHUB_SALESFORCE__* and")
        print(f"# export PULSEHUB_SOURCES={shlex.quote(hubspot)}")
    else:
        print("credentials (fake, sandbox only):")
        print(json.dumps(credentials.describe(sb.base_url), indent=2))
        if second is not None:
            print(f"second helpdesk instance on {second.base_url}; its source (PULSEHUB_SOURCES):")
            limit = sb.limits.zd_incremental_per_minute
            print(json.dumps([credentials.second_helpdesk_source(second.base_url, limit)]))
    print(
        f"{note}control API: {sb.base_url}/_sandbox/ "
        "(requests, writes, clear, advance, faults, truth, counts)"
    )
    print(f"{note}control API ready", flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print(f"{note}stopping")
    finally:
        sb.stop()
        if second is not None:
            second.stop()
