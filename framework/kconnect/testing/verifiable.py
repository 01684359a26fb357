"""Read what VerifiableSource and VerifiableSink tasks reported, and find what went missing.

The tasks append one JSON line per record they got through to their ``output.file`` (or print
it, with other lines, to stdout). Per source task (the ``task`` field; for the sink too, since
the record key is the source task that wrote it) this gives the seqnos seen, the seqnos missing
between ``start`` and the highest one (gaps: records lost), and those seen more than once
(duplicates: expected after a crash, never after clean restarts)::

    source = verifiable_seqnos(tmp_path / "source.jsonl")
    sink = verifiable_seqnos(tmp_path / "sink.jsonl")
    for task, seen in source.items():
        assert not seen.gaps, f"task {task} lost {seen.gaps[:10]}"
        assert set(seen.seqnos) <= set(sink[task].seqnos)

Only the lines that report a record as committed (source) or flushed (sink) count; lines that
are not such JSON objects (logs, a torn last line of a killed worker) are skipped, so a worker's
captured stdout can be read as well.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

# The flag each kind of task sets on the lines that count.
_REPORT_FLAGS = ("committed", "flushed")


@dataclass
class TaskSeqnos:
    """What one source task's records look like in a report."""

    seqnos: list[int] = field(default_factory=list)
    """Every distinct seqno seen, ascending."""
    gaps: list[int] = field(default_factory=list)
    """Seqnos from ``start`` up to the highest seen that are missing, ascending."""
    duplicates: list[int] = field(default_factory=list)
    """Seqnos seen more than once, ascending."""
    count: int = 0
    """Lines counted (duplicates included)."""


def verifiable_seqnos(
    paths: str | Path | Iterable[str | Path], connector: str | None = None, start: int = 0
) -> dict[int, TaskSeqnos]:
    """Per source task id: the seqnos reported in ``paths`` (one output file or several, e.g.
    one per worker; a missing file counts as empty), with their gaps and duplicates.

    ``connector`` keeps only the lines of the connector of that name (the ``name`` field);
    ``start`` is the first seqno expected (0 for a connector without stored offsets)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    counts: dict[int, Counter[int]] = defaultdict(Counter)
    for path in paths:
        for entry in _reported_entries(Path(path)):
            if connector is not None and entry.get("name") != connector:
                continue
            task, seqno = entry.get("task"), entry.get("seqno")
            if _is_int(task) and _is_int(seqno):
                counts[task][seqno] += 1
    return {task: _summarize(seen, start) for task, seen in sorted(counts.items())}


def _reported_entries(path: Path) -> Iterable[dict]:
    try:
        with open(path, "rb") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and any(entry.get(f) is True for f in _REPORT_FLAGS):
                    yield entry
    except FileNotFoundError:
        return


def _summarize(seen: Counter[int], start: int) -> TaskSeqnos:
    seqnos = sorted(seen)
    present = set(seqnos)
    highest = seqnos[-1] if seqnos else start - 1
    return TaskSeqnos(
        seqnos=seqnos,
        gaps=[s for s in range(start, highest + 1) if s not in present],
        duplicates=[s for s in seqnos if seen[s] > 1],
        count=sum(seen.values()),
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
