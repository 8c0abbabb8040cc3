"""Opening hours and holidays, pure: whether a service takes tickets at an instant, and
when it opens next.

A service's `hours` maps weekdays (`mon` ... `sun`) to one or more ranges
(`"08:00-15:00"`, `"08:00-12:00,13:00-15:00"`) in the site's local time; a weekday it
does not name is closed, and a service without `hours` is always open. A site's
`holidays` are service days (`YYYY-MM-DD`) on which no service takes tickets. A
counter's `breaks` (its staff's breaks, e.g. `"12:00-13:00"`) have the same shape; a
weekday it does not name has none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES_ID: Final = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
RANGE: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
LOOKAHEAD_DAYS: Final = 14  # how far `next_open` looks (past it: no opening known)

Range = tuple[time, time]  # start inclusive, end exclusive; end 24:00 is time.max


def parse_ranges(text: str) -> tuple[Range, ...]:
    """`"08:00-12:00,13:00-15:00"` -> ranges; ValueError with a reason when malformed."""
    ranges: list[Range] = []
    for part in text.split(","):
        m = RANGE.fullmatch(part.strip())
        if m is None:
            raise ValueError(f'{part.strip()!r} is not a range like "08:00-15:00"')
        start = time(int(m[1]), int(m[2]))
        end = time.max if m[3] == "24" else time(int(m[3]), int(m[4]))
        if m[3] == "24" and m[4] != "00":
            raise ValueError(f"{part.strip()!r}: 24:00 is the latest end")
        if end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts")
        if ranges and start < ranges[-1][1]:
            raise ValueError(f"{part.strip()!r} overlaps or precedes the range before it")
        ranges.append((start, end))
    return tuple(ranges)


@dataclass(frozen=True)
class Closed:
    """Why a service takes no ticket now: `holiday` or `service_closed_now`, and when it
    opens next (local time, or None when nothing opens within two weeks)."""

    code: str
    next_open: datetime | None

    def message(self, now: datetime) -> str:
        """An Indonesian sentence: "Layanan dibuka pukul 08.00" (today), with the day
        name for another day ("Layanan dibuka Senin pukul 08.00")."""
        first = "Hari ini hari libur." if self.code == "holiday" else "Layanan sedang tutup."
        if self.next_open is None:
            return f"{first} Jadwal buka berikutnya belum ditentukan."
        at = self.next_open.strftime("%H.%M")
        day = self.next_open.date()
        today = now.astimezone(self.next_open.tzinfo).date()
        if day == today:
            when = f"pukul {at}"
        elif day == today + timedelta(days=1):
            when = f"besok pukul {at}"
        else:
            when = f"{DAY_NAMES_ID[day.weekday()]} {day.day:02d}/{day.month:02d} pukul {at}"
        return f"{first} Layanan dibuka {when}."


def closed_at(
    hours: Mapping[str, str] | None,
    holidays: Sequence[str],
    timezone: str,
    now: datetime,
) -> Closed | None:
    """None when the service takes tickets at `now`; else why not and when it opens."""
    local = now.astimezone(ZoneInfo(timezone))
    off = frozenset(holidays)
    holiday = local.date().isoformat() in off
    if not holiday and (hours is None or _inside(hours, local)):
        return None
    return Closed("holiday" if holiday else "service_closed_now", next_open(hours, off, local))


def _ranges_of(hours: Mapping[str, str], day: date) -> tuple[Range, ...]:
    text = hours.get(WEEKDAYS[day.weekday()])
    return parse_ranges(text) if text else ()


def _inside(hours: Mapping[str, str], local: datetime) -> bool:
    now = local.time()
    return any(start <= now < end for start, end in _ranges_of(hours, local.date()))


def next_open(
    hours: Mapping[str, str] | None, holidays: frozenset[str], local: datetime
) -> datetime | None:
    """The next start of an opening after `local` (a local datetime), skipping holidays."""
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if day.isoformat() in holidays:
            continue
        starts = [time(0, 0)] if hours is None else [s for s, _ in _ranges_of(hours, day)]
        for start in starts:
            at = datetime.combine(day, start, tzinfo=local.tzinfo)
            if at > local:
                return at
    return None


def windows_today(
    table: Mapping[str, str] | None, timezone: str, now: datetime
) -> tuple[tuple[float, float], ...]:
    """The ranges of `table` on `now`'s local weekday, as (start, end) in seconds from
    `now` (below 0: in the past)."""
    if not table:
        return ()
    local = now.astimezone(ZoneInfo(timezone))
    day = local.date()

    def at(moment: time) -> float:
        if moment == time.max:  # 24:00
            return (
                datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=local.tzinfo) - local
            ).total_seconds()
        return (datetime.combine(day, moment, tzinfo=local.tzinfo) - local).total_seconds()

    return tuple((at(start), at(end)) for start, end in _ranges_of(table, day))


def windows_left(
    table: Mapping[str, str] | None, timezone: str, now: datetime
) -> tuple[tuple[float, float], ...]:
    """The ranges of `table` on `now`'s local weekday that have not ended yet, as
    (start, end) in seconds from `now` (a start below 0: under way)."""
    return tuple(w for w in windows_today(table, timezone, now) if w[1] > 0)
