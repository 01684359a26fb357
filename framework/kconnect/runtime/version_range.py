"""Plugin version requirements (KIP-891): ``connector.plugin.version`` and ``?version=``.

A requirement is read as Kafka Connect reads it: ``latest`` (or nothing) asks for no particular
version; a Maven range (``[1.0,2.0)``, ``[1.0,)``, ``(,2.0]``, ``[1.5]``, several joined by
commas) restricts it; a bare version (``1.2.0``) is an exact requirement, as if written
``[1.2.0]``. A range prints as Maven's ``VersionRange`` does (``[1.2.0,1.2.0]``), because the
messages quoting it are Kafka's. Versions compare as PEP 440 versions when both parse (Python
plugins' own scheme, under which ``1.0`` equals ``1``), otherwise part by part, numbers as
numbers.

kconnect installs one version of each plugin, so a requirement can only confirm the installed
version or be unmet; there is nothing to choose between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cmp_to_key

from packaging.version import InvalidVersion, Version

LATEST = "latest"


class InvalidVersionRange(ValueError):
    """A requirement that is neither a version nor a Maven version range."""


@dataclass(frozen=True)
class _Restriction:
    lower: str | None
    lower_inclusive: bool
    upper: str | None
    upper_inclusive: bool

    def contains(self, version: str) -> bool:
        if self.lower is not None:
            order = compare_versions(version, self.lower)
            if order < 0 or (order == 0 and not self.lower_inclusive):
                return False
        if self.upper is not None:
            order = compare_versions(version, self.upper)
            if order > 0 or (order == 0 and not self.upper_inclusive):
                return False
        return True

    def __str__(self) -> str:
        return (
            ("[" if self.lower_inclusive else "(")
            + (self.lower or "")
            + ","
            + (self.upper or "")
            + ("]" if self.upper_inclusive else ")")
        )


@dataclass(frozen=True)
class VersionRange:
    """One or more restrictions; a version matches when any of them contains it."""

    restrictions: tuple[_Restriction, ...]

    def contains(self, version: str) -> bool:
        return any(r.contains(version) for r in self.restrictions)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.restrictions)


def _parts(version: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p.lower() for p in re.findall(r"\d+|[A-Za-z]+", version)]


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as, or newer than ``b``."""
    try:
        va, vb = Version(a), Version(b)
        return (va > vb) - (va < vb)
    except InvalidVersion:
        pa, pb = _parts(a), _parts(b)
        # Numbers sort after words at the same position (1.0 is newer than 1.0-beta), and
        # trailing zeros do not count (1.0 is 1).
        while pa and pa[-1] == 0:
            pa.pop()
        while pb and pb[-1] == 0:
            pb.pop()
        for x, y in zip(pa, pb, strict=False):
            if x == y:
                continue
            if isinstance(x, int) and isinstance(y, int):
                return -1 if x < y else 1
            if isinstance(x, int) != isinstance(y, int):
                return 1 if isinstance(x, int) else -1
            return -1 if str(x) < str(y) else 1
        return (len(pa) > len(pb)) - (len(pa) < len(pb))


def _restriction(spec: str, whole: str) -> _Restriction:
    lower_inclusive, upper_inclusive = spec[0] == "[", spec[-1] == "]"
    inner = spec[1:-1].strip()
    if "," not in inner:
        if not (lower_inclusive and upper_inclusive) or not inner:
            raise InvalidVersionRange(f"Single version must be surrounded by []: {whole}")
        return _Restriction(inner, True, inner, True)
    lower_text, _, upper_text = inner.partition(",")
    if "," in upper_text:
        raise InvalidVersionRange(f"Invalid version range {spec} in {whole}")
    lower, upper = lower_text.strip() or None, upper_text.strip() or None
    if lower is not None and upper is not None and compare_versions(upper, lower) < 0:
        raise InvalidVersionRange(f"Range defies version ordering: {whole}")
    return _Restriction(lower, lower_inclusive, upper, upper_inclusive)


def _by_lower_bound(x: _Restriction, y: _Restriction) -> int:
    """Maven keeps a range's restrictions ordered by their lower bounds (none first)."""
    if x.lower is None or y.lower is None:
        return (x.lower is not None) - (y.lower is not None)
    return compare_versions(x.lower, y.lower)


def parse_requirement(requirement: str | None) -> VersionRange | None:
    """The range ``requirement`` asks for, or None for no requirement (absent or ``latest``);
    raises InvalidVersionRange when it is not a version or a Maven range."""
    if requirement is None or requirement.strip() in ("", LATEST):
        return None
    text = requirement.strip()
    if text[0] not in "[(":
        if any(c in text for c in "[](),"):
            raise InvalidVersionRange(f"Invalid version specification: {text}")
        return VersionRange((_Restriction(text, True, text, True),))
    restrictions = []
    rest = text
    while rest:
        if rest[0] not in "[(":
            raise InvalidVersionRange(f"Invalid version range {rest}: {text}")
        end = min((i for i in (rest.find("]"), rest.find(")")) if i >= 0), default=-1)
        if end < 0:
            raise InvalidVersionRange(f"Unbounded range: {text}")
        restrictions.append(_restriction(rest[: end + 1], text))
        rest = rest[end + 1 :].strip()
        if rest.startswith(","):
            rest = rest[1:].strip()
    ordered = sorted(restrictions, key=cmp_to_key(_by_lower_bound))
    return VersionRange(tuple(ordered))


def unmet_message(plugin_class: str, requirement: str | None, installed: str) -> str | None:
    """Kafka's message when the installed version of ``plugin_class`` does not meet
    ``requirement``, None when it does; raises InvalidVersionRange for an unreadable one."""
    wanted = parse_requirement(requirement)
    if wanted is None or wanted.contains(installed):
        return None
    return (
        f"Plugin {plugin_class} not found that matches the version range {wanted}, "
        f"available versions: [{installed}]"
    )
