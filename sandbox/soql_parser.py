"""Recursive-descent parser turning SOQL text into a `soql.Query` with a compiled WHERE predicate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sandbox.soql import Query, SoqlError, _literal, compare, in_list, like, tokenize

Getter = Callable[[str], Any]
Pred = Callable[[Getter], bool]
_KEYWORDS = {"from", "where", "order", "limit", "offset", "and", "or", "not", "in", "like"}


class _Parser:
    def __init__(self, text: str, today: dt.date) -> None:
        self.toks = tokenize(text)
        self.i = 0
        self.today = today
        self.where_fields: list[str] = []

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def word(self, *words: str) -> bool:
        kind, text = self.peek()
        if kind == "word" and text.lower() in words:
            self.i += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.word(word):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.peek()[1] or 'EOF'}'")

    def punct(self, ch: str) -> bool:
        if self.peek() == ("punct", ch):
            self.i += 1
            return True
        return False

    def ident(self) -> str:
        kind, text = self.peek()
        if kind != "word" or text.lower() in _KEYWORDS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text or 'EOF'}'")
        self.i += 1
        return text

    def value(self) -> Any:
        kind, text = self.peek()
        if kind not in ("str", "dt", "date", "num", "word"):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text or 'EOF'}'")
        self.i += 1
        return _literal(kind, text, self.today)

    def parse(self) -> Query:
        self.expect_word("select")
        fields: list[str] = []
        count_only = False
        if self.peek()[1].lower() == "count" and self.toks[self.i + 1 : self.i + 3] == [
            ("punct", "("),
            ("punct", ")"),
        ]:
            self.i += 3
            count_only = True
        else:
            fields.append(self.ident())
            while self.punct(","):
                fields.append(self.ident())
        self.expect_word("from")
        query = Query(fields=fields, sobject=self.ident(), count_only=count_only)
        if self.word("where"):
            query.where = self.disjunction()
        if self.word("order"):
            self.expect_word("by")
            while True:
                name = self.ident()
                desc = self.word("desc")
                if not desc:
                    self.word("asc")
                nulls_last = desc
                if self.word("nulls"):
                    nulls_last = self.word("last")
                    if not nulls_last:
                        self.expect_word("first")
                query.order.append((name, desc, nulls_last))
                if not self.punct(","):
                    break
        if self.word("limit"):
            query.limit = int(self.value())
        if self.word("offset"):
            query.offset = int(self.value())
        if self.i != len(self.toks):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.peek()[1]}'")
        query.where_fields = self.where_fields
        return query

    def disjunction(self) -> Pred:
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda g: any(p(g) for p in parts))

    def conjunction(self) -> Pred:
        parts = [self.negation()]
        while self.word("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else (lambda g: all(p(g) for p in parts))

    def negation(self) -> Pred:
        if self.word("not"):
            inner = self.negation()
            return lambda g: not inner(g)
        if self.punct("("):
            inner = self.disjunction()
            if not self.punct(")"):
                raise SoqlError("MALFORMED_QUERY", "expecting ')'")
            return inner
        return self.condition()

    def condition(self) -> Pred:
        name = self.ident()
        self.where_fields.append(name)
        negate = self.word("not")
        if self.word("in"):
            if not self.punct("("):
                raise SoqlError("MALFORMED_QUERY", "expecting '('")
            values = [self.value()]
            while self.punct(","):
                values.append(self.value())
            if not self.punct(")"):
                raise SoqlError("MALFORMED_QUERY", "expecting ')'")
            member = in_list(values)
            return lambda g: member(g(name)) != negate
        if negate:
            raise SoqlError("MALFORMED_QUERY", "expecting IN after NOT")
        if self.word("like"):
            pattern = self.value()
            return lambda g: like(g(name), str(pattern))
        kind, op = self.peek()
        if kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{op or 'EOF'}'")
        self.i += 1
        lit = self.value()
        return lambda g: compare(op, g(name), lit)


def parse(text: str, today: dt.date) -> Query:
    """Parse a SOQL string (date literals relative to `today`)."""
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "empty query")
    try:
        return _Parser(text, today).parse()
    except (IndexError, ValueError) as exc:
        if isinstance(exc, SoqlError):
            raise
        raise SoqlError("MALFORMED_QUERY", str(exc)) from exc
