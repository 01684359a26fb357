"""Which topics a connector uses (``GET /connectors/{c}/topics``, KIP-558).

Task runners that track topics keep a set in ``active_topics`` (a source runner adds each topic
it produces to, a sink runner each topic it consumes from). A sink runner that does not track
them yet is answered from its consumer assignment, which names the same topics once records flow.
"""

from __future__ import annotations

from typing import Any


def active_topics_of(runner: Any) -> set[str]:
    tracked = getattr(runner, "active_topics", None)
    if tracked is not None:
        return set(tracked)
    assignment = getattr(runner, "assignment", None) or ()
    return {tp.topic for tp in assignment}


def reset_active_topics_of(runner: Any) -> None:
    tracked = getattr(runner, "active_topics", None)
    if tracked is not None:
        tracked.clear()
