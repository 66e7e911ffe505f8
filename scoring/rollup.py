"""Parent accounts take the ARR-weighted mean of their own score and their children's."""

from __future__ import annotations

from collections.abc import Mapping

from scoring.config import Scorecard
from scoring.health import HealthResult, Reason, band_for


def roll_up(
    results: dict[int, HealthResult],
    parents: Mapping[int, int | None],
    arr: Mapping[int, float | None],
    scorecard: Scorecard,
    outside: Mapping[int, list[tuple[int, float | None, float | None]]] | None = None,
) -> set[int]:
    """Roll children into parents, deepest first (so grandparents see rolled parents).

    `parents` maps account -> parent id; `outside` gives, per parent, children scored earlier
    and not in `results` as (id, score, arr). Returns the ids whose score was rolled up.
    """
    children: dict[int, list[int]] = {}
    for aid, pid in parents.items():
        if pid is not None and pid in results and aid in results and pid != aid:
            children.setdefault(pid, []).append(aid)
    for pid in outside or {}:
        children.setdefault(pid, [])
    rolled: set[int] = set()
    for pid in sorted(children, key=lambda a: -_depth(a, parents)):
        if pid not in results:
            continue
        kids = [(c, results[c].score, arr.get(c)) for c in children[pid]]
        kids += (outside or {}).get(pid, [])
        members = [(pid, results[pid].score, arr.get(pid)), *kids]
        scored = [(a, s, w) for a, s, w in members if s is not None]
        if not kids or not scored:
            continue
        total = sum(max(w or 0.0, 0.0) for _, _, w in scored)
        if total > 0:
            value = sum(s * max(w or 0.0, 0.0) for _, s, w in scored) / total
        else:
            value = sum(s for _, s, _ in scored) / len(scored)
        res = results[pid]
        res.signals["own_score"] = res.score
        weakest = min(((s, a) for a, s, _ in scored if a != pid), default=None)
        text = f"rolls up {len(kids)} child accounts, ARR-weighted"
        if weakest is not None:
            text += f"; weakest child: account {weakest[1]} at {weakest[0]:.0f}"
        res.reasons.insert(0, Reason("children", 0.0, float(len(kids)), None, text))
        res.score = round(value, 2)
        res.band = band_for(res.score, scorecard)
        rolled.add(pid)
    return rolled


def _depth(aid: int, parents: Mapping[int, int | None]) -> int:
    """Distance from the top of the hierarchy (cycles are cut)."""
    seen = {aid}
    depth = 0
    pid = parents.get(aid)
    while pid is not None and pid not in seen:
        seen.add(pid)
        depth += 1
        pid = parents.get(pid)
    return depth
