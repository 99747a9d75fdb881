"""The cyclic garbage collector paused while a large answer becomes objects (one pause for every thread)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_on = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a large reply becomes objects: with 10,000 BGP peers or 5,000
    instances the collections triggered by the allocations cost more than the parsing (they walk the whole
    new tree, again and again). Replies have no reference cycles; refcounting frees them as usual. Nested
    and overlapping pauses (other threads) end when the last one does.

    What the pause built is still alive when it ends (the metrics, until the answer is sent): they are
    moved out of the collector's sight (`gc.freeze`), else the first collection after the pause walks
    all of them (a quarter of a second for 10,000 peers, holding the GIL while the answer waits). The
    next pause gives back what is left of them (`gc.unfreeze`): by then the answer has been sent and
    freed, and cyclic garbage frozen with it is collected as usual."""
    global _gc_depth, _gc_was_on
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_on = gc.isenabled()
            gc.disable()
            gc.unfreeze()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_on:
                gc.freeze()
                gc.enable()
