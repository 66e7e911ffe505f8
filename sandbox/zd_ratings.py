"""Zendesk satisfaction ratings listing: score and time filters over the rated tickets.

Filters per the Satisfaction Ratings reference: `score=` offered, unoffered, received, good,
bad (the last three also `_with_comment` / `_without_comment`), `start_time`, `end_time`.
Without `score` the listing holds every rating request issued (offered, good, bad).

Simplified: an unoffered rating exists for every solved ticket that never sent a survey;
every received sandbox rating carries a comment.
"""

from __future__ import annotations

import re

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import parse_datetime, to_epoch
from sandbox.httpd import Request, Response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.zd_lists import paginate
from sandbox.zd_shapes import rating, rating_created

ROUTES = RouteTable()


def _epoch_param(req: Request, name: str) -> int | None:
    value = req.query.get(name)
    if value is None:
        return None
    try:
        return int(value) if value.isdigit() else to_epoch(parse_datetime(value))
    except ValueError as exc:
        raise BadRequest(400, "InvalidValue", f"{name} is invalid") from exc


@ROUTES.add("GET", r"/api/v2/satisfaction_ratings\.json")
def satisfaction_ratings(state: State, req: Request, m: re.Match[str]) -> Response:
    start, end = _epoch_param(req, "start_time"), _epoch_param(req, "end_time")
    keys = _rated(state, req.query.get("score", ""), start, end)
    return paginate(
        req, "satisfaction_ratings", keys, lambda p: rating(state.world, p, req.base_url)
    )


_SCORES = {"unoffered": {0}, "offered": {1}, "good": {2}, "bad": {3}, "received": {2, 3}}
_COMMENTED = {2, 3}  # every received sandbox rating carries a comment


def _score_filter(score: str) -> tuple[set[int], bool | None]:
    """(csat values, comment wanted or None) of a `score=` filter; no filter: every issued rating."""
    if not score:
        return {1, 2, 3}, None
    base, _, suffix = score.partition("_with")
    if (
        base not in _SCORES
        or suffix not in ("", "_comment", "out_comment")
        or (suffix and base not in ("received", "good", "bad"))
    ):
        raise BadRequest(400, "InvalidValue", f"score {score!r} is not a valid filter")
    return _SCORES[base], {"": None, "_comment": True, "out_comment": False}[suffix]


def _rated(state: State, score: str, start: int | None, end: int | None) -> list[int]:
    """Positions of the rated tickets a listing shows, cached per ticket-table version.

    Without the cache every page of the listing scanned every ticket again.
    """
    t = state.world.tickets
    query = (score, start, end)
    cached = state.derived.get("satisfaction_ratings")
    if cached is not None and cached[0] == t.version and cached[1][0] == query:
        keys: list[int] = cached[1][1]
        return keys
    wanted, comment = _score_filter(score)
    keys = [
        p
        for p in range(len(t))
        if t.csat[p] in wanted
        and t.status[p] != DELETED
        and (wanted != {0} or t.solved[p])  # unoffered: solved tickets never sent a survey
        and (comment is None or comment == (t.csat[p] in _COMMENTED))
        and (start is None or rating_created(t, p) >= start)
        and (end is None or rating_created(t, p) <= end)
    ]
    state.derived["satisfaction_ratings"] = (t.version, (query, keys))
    return keys
