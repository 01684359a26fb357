"""The kit's checks by name, with the kit version that introduced each one.

The names are the kit's public interface: authors skip checks by them, the failure messages
start with them, and ``KIT_VERSION`` grows whenever a check is added or made stricter, so a
plugin can pin the version it last passed (``kit_version = 1``) and adopt new checks when it
chooses to.
"""

from __future__ import annotations

from dataclasses import dataclass

#: bumped when a check is added or made stricter
KIT_VERSION = 1


@dataclass(frozen=True)
class Check:
    name: str
    since: int
    kinds: frozenset[str]
    summary: str


def _check(name: str, kinds: str, summary: str, since: int = 1) -> Check:
    return Check(name, since, frozenset(kinds.split()), summary)


CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        _check("config_documented", "source sink transform", "every ConfigDef key is documented"),
        _check("valid_config_accepted", "source sink", "the author's config validates cleanly"),
        _check(
            "missing_required_reported",
            "source sink",
            "dropping any required key makes /validate report that key",
        ),
        _check(
            "validate_never_raises",
            "source sink transform",
            "validation answers junk values with errors, never an exception",
        ),
        _check(
            "start_stop_repeatedly",
            "source sink",
            "start/stop cycles leave no threads, files or sockets behind",
        ),
        _check(
            "stop_while_poll_blocked",
            "source",
            "stop() returns within the bound while poll() waits for data",
        ),
        _check(
            "stop_while_put_blocked",
            "sink",
            "stop() returns within the bound while put() waits for the sink system",
        ),
        _check(
            "source_offsets_json",
            "source",
            "records carry JSON-serialisable partitions and offsets",
        ),
        _check(
            "source_resume_after_restart",
            "source",
            "a restart from committed offsets neither re-delivers nor skips",
        ),
        _check("sink_delivers_batch_once", "sink", "a batch reaches the sink system once"),
        _check(
            "sink_retriable_redelivered",
            "sink",
            "after RetriableException the same batch is written once when it comes again",
        ),
        _check(
            "pre_commit_not_ahead_of_flush",
            "sink",
            "pre_commit() reports only offsets of records the sink system holds",
        ),
        _check(
            "transform_applies", "transform", "the transform turns each example into its result"
        ),
        _check(
            "round_trip_through_worker",
            "source sink transform",
            "the plugin runs in a real standalone worker against a real broker",
        ),
    )
}


def checks_for(kind: str) -> list[Check]:
    return [c for c in CHECKS.values() if kind in c.kinds]
