"""Freeing a large object graph (a replaced content tree) a little at a time.

Dropping the last reference to a 5,000-step engine frees it in one cascade that holds the GIL
for 30-40 ms, and every user waits that long. Here the graph is taken apart from the top: each
object's referents are held, then the object is dropped, so each deallocation is small, and the
event loop runs between chunks. Objects someone else still holds are only let go, never
entered, and nothing is modified.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from types import FunctionType, ModuleType

CHUNK = 2000  # objects between two turns of the event loop (well under a millisecond)
_NEVER_ENTER = (type, ModuleType, FunctionType)


async def release_gradually(holder: list[object]) -> int:
    """Free what ``holder`` (a one-item list, emptied here) holds; the number of objects freed."""
    for _ in range(100):  # a step in flight may still use it: wait until we hold the last reference
        if sys.getrefcount(holder[0]) <= 2:
            break
        await asyncio.sleep(0.01)
    stack: list[object] = [holder.pop()]
    freed = 0
    while stack:
        for _ in range(CHUNK):
            if not stack:
                break
            item = stack.pop()
            # Two references: ``item`` and getrefcount's argument; more means someone else holds it.
            if sys.getrefcount(item) <= 2 and not isinstance(item, _NEVER_ENTER):
                stack.extend(gc.get_referents(item))
                freed += 1
            del item
        await asyncio.sleep(0)
    return freed
