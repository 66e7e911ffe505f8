"""Training rows kept as numbers, not as one Python dict per row.

A snapshot's features as a dict cost ~4 KB (forty-odd keys, boxed floats, the dict itself):
with daily history at 50,000 accounts the nightly refit's training set alone would reach
tens of gigabytes. `FeatureRows` keeps the declared numeric features in float64 blocks of
`BLOCK` rows (NaN for a missing value: `risk_model._number` reads NaN as missing too) and
each declared categorical feature as one shared string per row, ~8 bytes a value.

It reads like the list of dicts it replaces (`rows[i]`, iteration, `len`), so the code that
takes a plain list (a CSV table's rows, tests) works on either; the fitter asks for whole
columns (`numeric_column`, `category_column`) instead of walking dicts. Keys that are not
declared are dropped: the fitter reads only the declared features.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, overload

import numpy as np

from scoring.risk_model import _category, _number

BLOCK = 4096  # rows per float64 block: 4096 x 45 features = 1.4 MiB


class FeatureRows(Sequence[dict[str, Any]]):
    def __init__(self, numeric: Sequence[str], categorical: Sequence[str] = ()) -> None:
        self.numeric = tuple(numeric)
        self.categorical = tuple(categorical)
        self._index = {name: i for i, name in enumerate(self.numeric)}
        self._blocks: list[np.ndarray] = []
        self._categories: dict[str, list[str]] = {name: [] for name in self.categorical}
        self._rows = 0

    def append(self, features: Mapping[str, Any]) -> None:
        at = self._rows % BLOCK
        if at == 0:
            self._blocks.append(np.full((BLOCK, len(self.numeric)), np.nan))
        block = self._blocks[-1]
        for name, i in self._index.items():
            value = _number(features.get(name))
            if value is not None:
                block[at, i] = value
        for name, values in self._categories.items():
            values.append(sys.intern(_category(features.get(name))))
        self._rows += 1

    def __len__(self) -> int:
        return self._rows

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._rows))]
        if i < 0:
            i += self._rows
        if not 0 <= i < self._rows:
            raise IndexError(i)
        row = self._blocks[i // BLOCK][i % BLOCK]
        out: dict[str, Any] = {
            name: None if np.isnan(v) else float(v)
            for name, v in zip(self.numeric, row, strict=True)
        }
        for name, values in self._categories.items():
            out[name] = values[i] or None
        return out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(self._rows))

    def numeric_column(self, name: str) -> np.ndarray:
        """Every row's value of a declared numeric feature (NaN: missing), a new array."""
        if not self._blocks:
            return np.empty(0)
        i = self._index[name]
        return np.concatenate([b[:, i] for b in self._blocks])[: self._rows]

    def blocks(self, *, release: bool = False) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, its block's filled rows) in order; with `release` each block is dropped
        once the caller is done with it, and the rows are empty after the last one."""
        start = 0
        while start < self._rows:
            block = self._blocks[0] if release else self._blocks[start // BLOCK]
            yield start, block[: min(BLOCK, self._rows - start)]
            if release:
                self._blocks.pop(0)
            start += BLOCK
        if release:
            self._rows = 0
            self._categories = {name: [] for name in self.categorical}

    def category_column(self, name: str) -> list[str]:
        """Every row's value of a declared categorical feature ("" for missing)."""
        return self._categories[name]

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self._blocks) + 8 * self._rows * len(self.categorical)


class AccountDays(Sequence[tuple[int, date]]):
    """Training rows' (account, snapshot day) keys read from two typed arrays: a tuple, a date
    and a list slot per row cost ~100 bytes, 6 MiB at 50,000 accounts held through the fit;
    these are 16 bytes a row, the pair made when read."""

    def __init__(self, accounts: array[int], days: array[int]) -> None:
        self._accounts, self._days = accounts, days  # days as proleptic ordinals

    def append(self, key: tuple[int, date]) -> None:
        self._accounts.append(key[0])
        self._days.append(key[1].toordinal())

    def __len__(self) -> int:
        return len(self._accounts)

    @overload
    def __getitem__(self, i: int) -> tuple[int, date]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[int, date]]: ...
    def __getitem__(self, i: int | slice) -> tuple[int, date] | list[tuple[int, date]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return self._accounts[i], date.fromordinal(self._days[i])

    def __iter__(self) -> Iterator[tuple[int, date]]:
        return zip(self._accounts, map(date.fromordinal, self._days), strict=True)
