"""``db.timezone``: the zone in which ``timestamp`` (without time zone) columns hold their wall
clock times, as Confluent's JDBC connector means it (default ``UTC``).

One rule, kept everywhere a wall clock time meets an instant: a naive ``timestamp`` value is
the wall clock time in ``db.timezone``. So every session runs with PostgreSQL's ``TimeZone`` set
to it (PostgreSQL's own casts between ``timestamp`` and ``timestamptz`` then agree with the
connector), the source reads naive values as instants in it and compares its timestamp
criteria in it, and the sink writes Timestamp values as wall clock times in it (aware values are
sent in the zone, so that ``COPY``, which ignores an offset written into a ``timestamp``
column, stores the same wall clock as ``INSERT``). ``timestamptz`` columns hold instants and
are unaffected; ``date`` and ``time`` columns are read and written as they are.

The values accepted are the JDBC connector's (Java's ``ZoneId``): IANA zone names
(``Europe/Berlin``, ``UTC``), Java's short ids (``PST``, ``IST`` …) and fixed offsets
(``+02:00``, ``UTC-5``, ``Z``).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

import psycopg
from kconnect.api import ConfigDef, ConfigException
from kconnect.api.config import Validator
from psycopg.types.datetime import DatetimeDumper

DB_TIMEZONE_CONFIG = "db.timezone"
DB_TIMEZONE_DEFAULT = "UTC"

#: Java's ``ZoneId.SHORT_IDS``, which the JDBC connector accepts for compatibility
_JAVA_SHORT_IDS = {
    "ACT": "Australia/Darwin",
    "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo",
    "AST": "America/Anchorage",
    "BET": "America/Sao_Paulo",
    "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare",
    "CNT": "America/St_Johns",
    "CST": "America/Chicago",
    "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa",
    "ECT": "Europe/Paris",
    "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia",
    "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi",
    "PNT": "America/Phoenix",
    "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles",
    "SST": "Pacific/Guadalcanal",
    "VST": "Asia/Ho_Chi_Minh",
    "EST": "-05:00",
    "MST": "-07:00",
    "HST": "-10:00",
}
# Java's offset forms: Z, +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss, optionally after UTC/GMT/UT.
_OFFSET = re.compile(
    r"^(?:UTC|GMT|UT)?(?:(?P<z>Z)|(?P<sign>[+-])(?P<h>\d{1,2})"
    r"(?::?(?P<m>\d{2})(?::?(?P<s>\d{2}))?)?)$"
)
_EXPECTED = "a time zone id such as UTC, Europe/Berlin, PST or +02:00"


@dataclass(frozen=True)
class DbTimeZone:
    """A parsed ``db.timezone``: the Python zone and the setting PostgreSQL's session gets."""

    text: str
    tzinfo: dt.tzinfo
    #: the value of the session's ``TimeZone`` parameter
    postgres: str

    @property
    def is_utc(self) -> bool:
        return self.postgres == "UTC"


UTC = DbTimeZone("UTC", dt.UTC, "UTC")


def _fixed(offset: dt.timedelta, text: str) -> DbTimeZone:
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return DbTimeZone(text, dt.UTC, "UTC")
    hours, rest = divmod(abs(seconds), 3600)
    if rest == 0:
        # Etc/GMT zones count the other way round (POSIX): Etc/GMT-2 is two hours east.
        return DbTimeZone(text, dt.timezone(offset), f"Etc/GMT{'-' if seconds > 0 else '+'}{hours}")
    minutes, secs = divmod(rest, 60)
    sign = "+" if seconds > 0 else "-"
    posix_sign = "-" if seconds > 0 else "+"
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    posix = f"<{sign}{clock.replace(':', '')}>{posix_sign}{clock}"
    return DbTimeZone(text, dt.timezone(offset), posix)


def parse_time_zone(text: str, name: str = DB_TIMEZONE_CONFIG) -> DbTimeZone:
    """The zone ``text`` names; ConfigException on the key ``name`` when it names none."""
    value = (text or "").strip()
    if value in ("UTC", "Z", "Etc/UTC"):
        return UTC
    target = _JAVA_SHORT_IDS.get(value, value)
    match = _OFFSET.match(target)
    if match:
        if match["z"]:
            return DbTimeZone(value, dt.UTC, "UTC")
        hours, minutes, seconds = int(match["h"]), int(match["m"] or 0), int(match["s"] or 0)
        if hours <= 18 and minutes < 60 and seconds < 60:
            offset = dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
            if offset <= dt.timedelta(hours=18):
                return _fixed(-offset if match["sign"] == "-" else offset, value)
    elif target and "\\" not in target and not target.startswith("/"):
        try:
            return DbTimeZone(value, zoneinfo.ZoneInfo(target), target)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ConfigException(
        f"Invalid value {value} for configuration {name}: Invalid time zone; expected {_EXPECTED}",
        name=name,
        value=value,
    )


class TimeZoneValidator(Validator):
    """Accepts what :func:`parse_time_zone` accepts (null too: the default applies)."""

    def ensure_valid(self, name: str, value: Any) -> None:
        if value is not None:
            parse_time_zone(value, name)

    def __str__(self) -> str:
        return "Any time zone id: an IANA name (Europe/Berlin), a Java short id (PST) or an offset"


def define_db_timezone(config_def: ConfigDef, doc: str, group: str, order: int) -> ConfigDef:
    """Add ``db.timezone`` (the source and the sink both have it; ``doc`` says what it does
    for each) to ``config_def``."""
    return config_def.define(
        DB_TIMEZONE_CONFIG,
        ConfigDef.Type.STRING,
        DB_TIMEZONE_DEFAULT,
        TimeZoneValidator(),
        ConfigDef.Importance.MEDIUM,
        doc,
        group,
        order,
    )


def zone_dumper(zone: dt.tzinfo) -> type[DatetimeDumper]:
    """A text dumper sending datetimes in ``zone``: ``COPY`` into a ``timestamp`` column keeps
    the wall clock written and drops the offset, so the wall clock must be the zone's. A naive
    value is UTC, as Connect's Timestamp has it (``astimezone`` would take it as the worker
    host's local time)."""

    class ZoneDatetimeDumper(DatetimeDumper):
        def dump(self, obj: dt.datetime) -> Any:
            if obj.tzinfo is None:
                obj = obj.replace(tzinfo=dt.UTC)
            return super().dump(obj.astimezone(zone))

    return ZoneDatetimeDumper


def apply_to_session(conn: psycopg.Connection, zone: DbTimeZone) -> None:
    """Run ``conn`` in ``zone``: its ``TimeZone`` and how it sends aware datetimes."""
    conn.execute("SELECT set_config('TimeZone', %s, false)", (zone.postgres,))
    if not zone.is_utc:
        conn.adapters.register_dumper(dt.datetime, zone_dumper(zone.tzinfo))
