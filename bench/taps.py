"""Benchmark: pulsehub's connectors (storing into SQLite) vs the Singer taps on one sandbox.

tap-zendesk and tap-salesforce are installed from PyPI into their own virtualenvs (they pin
different singer-python versions, so one venv cannot hold both) under bench/.venv-taps/.
Their hard-coded vendor hosts reach the sandbox through a `requests` transport adapter that
bench/taps/sitecustomize.py installs at interpreter start; their code is not patched. Each
tool runs discovery + a full sync of the same streams against the same sandbox process;
requests are counted from the sandbox's own request log. Two ways to leave out a tap's own
sleeping: 'active' drops every pause over 5 s between its requests (with whatever work fell
in those pauses), 'awake' drops only the seconds its processes spent in time.sleep.

Both tools are timed on a warm sandbox: an untimed pulsehub pull of the same streams goes
first (`--no-warm` leaves it out), as the sandbox's first answers on a new world build its
caches and whichever tool came first paid for them. `--rounds N` times each tool N times,
alternating, and reports each round and the median ratio.

Run by hand:  .venv/bin/python -m bench taps [--accounts 20] [--seed 7] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.pipeline import _free_port, _get, _post, sandbox_started
from bench.tap_results import SALESFORCE_STREAMS, Result, per_stream, table

ROOT = Path(__file__).resolve().parents[1]
HOOK = Path(__file__).with_name("taps") / "sitecustomize.py"
VENVS = ROOT / "bench" / ".venv-taps"
TAPS = {"zendesk": "tap-zendesk==2.8.2", "salesforce": "tap-salesforce==2.8.1"}
ZENDESK_STREAMS = ("organizations", "tickets", "ticket_metrics", "satisfaction_ratings")
CATALOG_FLAG = {"zendesk": "--catalog", "salesforce": "--properties"}  # tap-salesforce: legacy flag
IDLE_GAP_S = 5.0  # a pause this long between a tool's requests is its own sleeping
RECORD = re.compile(rb'^\{"type": "RECORD", "stream": "([^"]+)"')


def ensure_tap(system: str) -> Path:
    """The tap's executable in its own venv (created and pip-installed on first use)."""
    venv = VENVS / system
    exe = venv / "bin" / f"tap-{system}"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", TAPS[system]], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    shutil.copyfile(HOOK, site / "sitecustomize.py")
    return exe


def tap_config(system: str) -> dict[str, Any]:
    from sandbox import credentials as c

    start = "2000-01-01T00:00:00Z"
    if system == "zendesk":
        return {"start_date": start, "subdomain": c.ZD_SUBDOMAIN, "access_token": c.ZD_OAUTH_TOKEN}
    return {
        "refresh_token": c.SF_REFRESH_TOKEN,
        "client_id": c.SF_CONSUMER_KEY,
        "client_secret": c.SF_CONSUMER_SECRET,
        "start_date": start,
        "api_type": "REST",
        "select_fields_by_default": True,
    }


def select(catalog: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    """Mark the wanted streams (all their fields) selected, incremental where they can be."""
    for stream in catalog["streams"]:
        on = stream["tap_stream_id"] in wanted
        for entry in stream["metadata"]:
            md = entry["metadata"]
            if entry["breadcrumb"]:
                md["selected"] = on
                continue
            md["selected"] = on
            keys = md.get("valid-replication-keys")
            if on and keys:
                md["replication-key"], md["replication-method"] = keys[0], "INCREMENTAL"
            elif on:
                md["replication-method"] = "FULL_TABLE"
    return catalog


def _log(base: str, after: int, system: str) -> list[dict[str, Any]]:
    entries = _get(f"{base}/_sandbox/requests")["requests"]
    return [r for r in entries if r["seq"] > after and r["system"] == system]


def _last_seq(base: str) -> int:
    entries = _get(f"{base}/_sandbox/requests")["requests"]
    return max((r["seq"] for r in entries), default=0)


def _idle(entries: list[dict[str, Any]]) -> float:
    ts = sorted(r["ts"] for r in entries)
    return sum(b - a for a, b in itertools.pairwise(ts) if b - a > IDLE_GAP_S)


def run_tap(system: str, base: str, work: Path) -> Result:
    exe = ensure_tap(system)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSEHUB_", "ZENPY_"))}
    env["PULSEHUB_BENCH_SANDBOX"] = base
    netloc = base.split("://", 1)[1]
    if system == "zendesk":  # zenpy's own documented host override (the tap's URLs use the hook)
        env.update(ZENPY_FORCE_SCHEME="http", ZENPY_FORCE_NETLOC=netloc)
    sleep_log = work / f"{system}-sleeps.txt"  # bench/taps/sitecustomize.py adds them up
    env["PULSEHUB_BENCH_SLEEP_LOG"] = str(sleep_log)
    config = work / f"{system}.json"
    config.write_text(json.dumps(tap_config(system)))
    wanted = set(ZENDESK_STREAMS if system == "zendesk" else SALESFORCE_STREAMS)
    result = Result(f"tap-{system}", system)
    mark = _last_seq(base)
    started = time.perf_counter()
    found = subprocess.run(
        [str(exe), "-c", str(config), "--discover"], env=env, capture_output=True, check=False
    )
    if found.returncode != 0:
        sys.exit(f"tap-{system} discovery failed:\n{found.stderr.decode()[-3000:]}")
    result.discovery_requests = len(_log(base, mark, system))
    catalog = work / f"{system}-catalog.json"
    catalog.write_text(json.dumps(select(json.loads(found.stdout), wanted)))
    proc = subprocess.Popen(
        [str(exe), "-c", str(config), CATALOG_FLAG[system], str(catalog)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(work / f"{system}.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := RECORD.match(line):
            result.records[m.group(1).decode()] += 1
    if proc.wait() != 0:
        sys.exit(f"tap-{system} sync failed; see {work / f'{system}.log'}")
    result.seconds = time.perf_counter() - started
    entries = _log(base, mark, system)
    result.requests, result.idle = len(entries), _idle(entries)
    result.slept = _slept(sleep_log, processes=2)
    return result


def _slept(log: Path, processes: int) -> float | None:
    """Seconds the tap's processes (discovery, sync) spent in time.sleep, if each reported."""
    lines = log.read_text().split() if log.exists() else []
    if len(lines) != 2 * processes:
        return None
    return sum(float(x) for x in lines[::2])


class _CountingMetrics:
    """Pass-through connector that counts ticket records carrying their metrics."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.metrics = inner, 0

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Any]:
        for page in self.inner.pull(stream, state, start=start):
            self.metrics += sum(getattr(r, "metric", None) is not None for r in page.records)
            yield page

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def run_pulsehub(system: str, base: str, work: Path) -> Result:
    """pulsehub's connector for `system`, every stream through sync.pull.pull_stream, after
    `prepare_pulls` (Salesforce reads every stream's first page in one Composite request)."""
    from bench.connectors import build_connectors
    from connectors.base import StreamRead
    from model.db import make_engine, make_session_factory, upgrade
    from sync.pull import pull_stream

    db_url = f"sqlite:///{work / f'pulsehub-{system}.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    result = Result("pulsehub", system)
    mark = _last_seq(base)
    started = time.perf_counter()
    connector = _CountingMetrics(build_connectors(base, [system])[system])
    # as `pulsehub sync` does: a fresh database, so every stream starts with no cursor
    connector.prepare_pulls([StreamRead(stream, None) for stream in connector.streams])
    for stream in connector.streams:  # the streams `pulsehub sync` reads, in order
        stored, rejected = pull_stream(factory, connector, stream)
        result.records[stream] = stored + rejected
    if connector.metrics:  # ticket metrics ride along with the ticket export
        result.records["ticket_metrics"] = connector.metrics
    result.seconds = time.perf_counter() - started
    engine.dispose()
    entries = _log(base, mark, system)
    result.requests, result.idle = len(entries), _idle(entries)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--systems", default="salesforce,zendesk")
    parser.add_argument("--rounds", type=int, default=1, help="timed runs of each tool")
    parser.add_argument(
        "--no-warm", dest="warm", action="store_false", help="time a cold sandbox's first answers"
    )
    args = parser.parse_args(argv)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "pulsehub.cli", "sandbox", "serve", "--port", str(port)]
    cmd += ["--accounts", str(args.accounts), "--seed", str(args.seed)]
    server = subprocess.Popen(
        cmd, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    pairs = []
    try:
        sandbox_started(base, 600)  # a sandbox that never answers fails the first pull
        _post(f"{base}/_sandbox/advance?seconds=61")  # past the exports' one-minute lag
        for system in args.systems.split(","):
            if args.warm:
                with tempfile.TemporaryDirectory() as tmp:
                    warm = run_pulsehub(system, base, Path(tmp))
                print(f"{system}: warm-up pull (untimed) {warm.seconds:.2f} s")
            for _ in range(args.rounds):
                with tempfile.TemporaryDirectory() as tmp:
                    ours = run_pulsehub(system, base, Path(tmp))
                    tap = run_tap(system, base, Path(tmp))
                pairs.append((ours, tap))
    finally:
        server.terminate()
        server.wait(30)
    print(f"sandbox: {args.accounts} accounts, seed {args.seed}; same sandbox process for all")
    print(table(pairs))
    print(per_stream(pairs[:1]))
    for system in args.systems.split(","):
        ratios = sorted(o.rate() / t.rate() for o, t in pairs if o.system == system)
        if ratios:
            print(
                f"{system}: pulsehub x throughput, median of {len(ratios)}: "
                f"{statistics.median(ratios):.1f}x (range {ratios[0]:.1f}-{ratios[-1]:.1f}x)"
            )
    print(f"'active' leaves out pauses over {IDLE_GAP_S:.0f} s between a tool's requests.")
    print("'awake' leaves out the time the tool spent in its own time.sleep calls, measured.")


if __name__ == "__main__":
    main()
