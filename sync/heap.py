"""Keep the cyclic garbage collector off the long-lived heap while a pull churns through pages.

A pull allocates hundreds of thousands of short-lived, acyclic objects (decoded JSON, records,
rows). The full collections they trigger would otherwise walk the whole long-lived heap again
each time (imported modules, the ORM's mappers, the run's own state): about 0.1-0.2 s of a
12,000-record helpdesk pull. Objects alive when the block starts are only moved out of the
collector's sight (`gc.freeze`), never changed, and are handed back to it when the last block
ends (`gc.unfreeze`), so cyclic garbage among them is collected later, not leaked.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """Freeze the objects alive now for the duration of the block (nestable, thread-safe)."""
    global _depth
    with _lock:
        _depth += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
