"""The process's heap, kept out of the cyclic garbage collector's way.

A Quita process holds a large, permanent heap once it has started: modules, SQLAlchemy's mappers and compiled
caches, settings and, where the bot answers, scikit-learn and the NLU model (~240,000 tracked objects).
Python's full collection walks all of it every time (100–220 ms on the 2-core machine, holding the GIL), and
a full collection comes round every few thousand ORM objects: in ``quita bench bot`` those stalls were the
tail of the reply latency, in ``quita bench dispatch`` ~0.06 ms per message.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()


def settle_heap() -> None:
    """Moves everything alive now out of the collector's reach (``gc.freeze``) and collects the youngest
    generation every 20,000 allocations instead of 700 (short-lived rows, payloads and tasks are freed by
    reference counting; those frequent young collections found almost nothing). Called after start-up work
    (the dispatcher's processes at start, any process once the NLU model is loaded); may be called again when
    more permanent state arrives. Garbage made later is collected as usual."""
    with _lock:
        gc.collect()
        gc.freeze()
        young, older, oldest = gc.get_threshold()
        gc.set_threshold(max(young, 20_000), older, oldest)
