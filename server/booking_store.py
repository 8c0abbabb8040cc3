"""Storage of bookings (antrean online): book, cancel, check in, expire; quotas, the
one-booking-per-NIK rule and personal data (docs/bookings.md).

Every change is one Lua script (lua/book.lua, check_in.lua, booking_cancel.lua,
booking_expire.lua, run through the store's `run`, so they share its idempotency and
service-day handling). The NIK is never stored: only its HMAC-SHA256 under the
installation's NIK key (`nik_key`) and its last four digits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import domain, keys
from .config import BookingSession, Service, Site
from .errors import Conflict, InvalidField, LoketError, NotFound, StorageUnavailable
from .store import Extra, Idem, Store

NIK = re.compile(r"\d{16}")
BOOKING_ID = re.compile(r"[A-Za-z0-9_-]{22}")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from a screen
CODE_LENGTH = 8
CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
PHONE = re.compile(r"\+?\d{8,15}")
KEY_FILE = "nik-key"
STATUSES = ("booked", "checked_in", "cancelled", "expired")


def nik_key(configured: str, data_dir: Path) -> bytes:
    """The installation's NIK key: `LOKET_NIK_KEY` (settings.nik_key) when set, else the
    one kept in the data directory (`nik-key`, made once, mode 0600). It is not kept in
    the store: a copy of the store alone cannot test NIKs against the hashes."""
    if configured:
        return configured.encode()
    path = data_dir / KEY_FILE
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker process made it first
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip().encode()


def normalize_code(raw: str) -> str:
    """What a kiosk scanned or typed, as a code: upper case, no spaces or dashes."""
    return re.sub(r"[\s-]", "", raw).upper()


def masked(last4: str | None) -> str | None:
    return None if last4 is None else f"**** **** **** {last4}"


def normalize_phone(raw: str) -> str:
    """An Indonesian mobile number as +62...: "0812-3456-7890" -> "+6281234567890"."""
    phone = re.sub(r"[\s().-]", "", raw)
    if phone.startswith("0"):
        phone = "+62" + phone[1:]
    elif phone.startswith("62"):
        phone = "+" + phone
    if PHONE.fullmatch(phone) is None:
        raise InvalidField("phone", "must be a phone number like 0812 3456 7890")
    return phone


@dataclass(frozen=True)
class Window:
    """A session on a date, as instants: start, end, and when check-in opens."""

    start: datetime
    end: datetime
    opens: datetime

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)


def window(site: Site, day: date, session: BookingSession) -> Window:
    tz = ZoneInfo(site.timezone)
    start = datetime.combine(day, time.fromisoformat(session.start), tzinfo=tz)
    end = datetime.combine(day, time.fromisoformat(session.end), tzinfo=tz)
    return Window(start, end, start - timedelta(minutes=site.booking_check_in_margin_min))


def booking_view(b: dict[str, Any], *, with_ticket_id: bool = True) -> dict[str, Any]:
    """A booking as its holder (the secret id) sees it: the NIK only as its last four
    digits, no internal `_` fields."""
    ticket = None
    if b.get("ticket"):
        ticket = {"number": b.get("number")}
        if with_ticket_id:
            ticket["id"] = b["ticket"]
    return {
        "id": b["id"],
        "code": b["code"],
        "site": b["site"],
        "service": b["service"],
        "agency": b["agency"],
        "date": b["date"],
        "session": b["session"],
        "start": b["start"],
        "end": b["end"],
        "status": b["status"],
        "nik": masked(b.get("nik_last4")),
        "name": b.get("name"),
        "phone": b.get("phone"),
        "created_at": b.get("created_at"),
        "checked_in_at": b.get("checked_in_at"),
        "cancelled_at": b.get("cancelled_at"),
        "expired_at": b.get("expired_at"),
        "ticket": ticket,
    }


class Bookings:
    def __init__(self, store: Store, key: bytes | None = None, *, key_source: Any = None) -> None:
        """`key`: the NIK key, or `key_source()` gives it on first use (so a process
        that never books never makes one)."""
        self.store = store
        self.redis: Any = store.redis
        self._key = key
        self._key_source = key_source
        self._key_checked = False

    # -- the NIK ---------------------------------------------------------------------

    async def _nik_key(self) -> bytes:
        if self._key is None:
            if self._key_source is None:
                raise StorageUnavailable("No NIK key is configured.", code="no_nik_key")
            self._key = self._key_source()
        key = self._key
        assert key is not None
        if not self._key_checked:
            # Every process of an installation must hash NIKs with the same key, or the
            # one-booking-per-NIK rule silently breaks: the first key's fingerprint is
            # kept in the store, and a process with another key refuses to book.
            mark = hmac.new(key, b"loket nik key fingerprint", hashlib.sha256).hexdigest()
            fingerprint = keys.installation_fingerprint()
            await self.redis.set(fingerprint, mark, nx=True)
            stored = await self.redis.get(fingerprint)
            if stored is not None and stored.decode() != mark:
                raise StorageUnavailable(
                    "This server's NIK key differs from the installation's (nik-key in the "
                    "data directory, or LOKET_NIK_KEY): bookings are refused.",
                    code="nik_key_mismatch",
                )
            self._key_checked = True
        return key

    async def nik_hash(self, nik: str) -> str:
        return hmac.new(await self._nik_key(), nik.encode(), hashlib.sha256).hexdigest()

    # -- reads -----------------------------------------------------------------------

    def _today(self, site: Site) -> date:
        return date.fromisoformat(domain.service_day(self.store.clock(), site.timezone))

    def bookable_service(self, site: Site, service_id: object) -> Service:
        service = site.service_by_id.get(service_id) if isinstance(service_id, str) else None
        if service is None:
            raise NotFound(f"Unknown service {service_id!r} at {site.id}.")
        if not service.booking_sessions:
            raise Conflict(f"{service.name} takes no bookings.", code="no_bookings")
        return service

    def why_not(self, site: Site, service: Service, day: date) -> str | None:
        """Why nobody may book this service on `day` (a code), or None."""
        today = self._today(site)
        if day < today:
            return "date_past"
        if day > today + timedelta(days=service.booking_days_ahead):
            return "date_too_far"
        if day.isoformat() in site.holidays:
            return "holiday"
        if not service.sessions_on(day):
            return "no_sessions"
        return None

    async def slots(self, site: Site, service_id: str, day: date) -> dict[str, Any]:
        service = self.bookable_service(site, service_id)
        reason = self.why_not(site, service, day)
        if reason is not None:
            return {"date": day.isoformat(), "sessions": [], "closed": reason}
        taken = await self.redis.hgetall(keys.booking_taken(site.id, day.isoformat()))
        count = {k.decode(): int(v) for k, v in taken.items()}
        cap = service.booking_cap()
        day_left = None if cap is None else max(0, cap - count.get(f"{service.id}|*", 0))
        if service.daily_quota is not None:
            # the tickets issued that day and the bookings holding places fill the quota
            issued = await self.redis.hget(keys.issued(site.id, day.isoformat()), service.id)
            free = service.daily_quota - int(issued or 0) - count.get(f"{service.id}|booked", 0)
            day_left = max(0, free if day_left is None else min(day_left, free))
        now = self.store.clock()
        sessions = []
        for s in service.sessions_on(day):
            left = max(0, s.quota - count.get(f"{service.id}|{s.id}", 0))
            if day_left is not None:
                left = min(left, day_left)
            if window(site, day, s).end <= now:
                left = 0  # over
            sessions.append(
                {"id": s.id, "start": s.start, "end": s.end, "quota": s.quota, "left": left}
            )
        return {"date": day.isoformat(), "sessions": sessions, "closed": None}

    async def get(self, site: Site, booking_id: str) -> dict[str, Any]:
        if not isinstance(booking_id, str) or BOOKING_ID.fullmatch(booking_id) is None:
            raise NotFound("No such booking.")
        raw = await self.redis.hget(keys.bookings(site.id), booking_id)
        if raw is None:
            raise NotFound("No such booking.")
        booking: dict[str, Any] = json.loads(raw)
        return booking

    async def by_code(self, site: Site, code: str) -> dict[str, Any]:
        code = normalize_code(code)
        if CODE.fullmatch(code) is None:
            raise NotFound("No booking has this code.")
        booking_id = await self.redis.hget(keys.booking_codes(site.id), code)
        if booking_id is None:
            raise NotFound("No booking has this code.")
        return await self.get(site, booking_id.decode())

    # -- changes ---------------------------------------------------------------------

    async def book(
        self,
        site: Site,
        service_id: str,
        day: date,
        session_id: str,
        nik: str,
        name: str,
        phone: str | None,
        *,
        idem: Idem | None = None,
    ) -> dict[str, Any]:
        service = self.bookable_service(site, service_id)
        if NIK.fullmatch(nik) is None or nik == "0" * 16:
            raise InvalidField("nik", "must be the 16 digits of a NIK")
        name = " ".join(name.split())
        if not 1 <= len(name) <= 100:
            raise InvalidField("name", "must be 1-100 characters")
        phone = normalize_phone(phone) if phone else None
        reason = self.why_not(site, service, day)
        if reason is not None:
            raise Conflict(_REFUSALS[reason], code=reason)
        session = next((s for s in service.sessions_on(day) if s.id == session_id), None)
        if session is None:
            raise InvalidField("session", "is not a session of that service on that date")
        span = window(site, day, session)
        if span.end <= self.store.clock():
            raise Conflict("This session is over; choose a later one.", code="session_over")
        nik_hash = await self.nik_hash(nik)
        purge_at = datetime.combine(
            day + timedelta(days=self.store.retention_days), time(), tzinfo=ZoneInfo(site.timezone)
        )
        cap = service.booking_cap()
        for _ in range(5):
            booking = {
                "id": secrets.token_urlsafe(16),
                "code": "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                "site": site.id,
                "service": service.id,
                "agency": service.agency,
                "date": day.isoformat(),
                "session": session.id,
                "start": session.start,
                "end": session.end,
                "nik_last4": nik[-4:],
                "name": name,
                "phone": phone,
                "_nik": nik_hash,
                "_start_ms": span.start_ms,
                "_end_ms": span.end_ms,
            }
            extra: Extra = (
                [
                    keys.bookings(site.id),
                    keys.booking_codes(site.id),
                    keys.booking_taken(site.id, day.isoformat()),
                    keys.booking_niks(site.id, day.isoformat()),
                    keys.booking_ends(site.id),
                    keys.booking_purge(site.id),
                    keys.issued(site.id, day.isoformat()),
                ],
                [
                    json.dumps(booking, ensure_ascii=False),
                    str(session.quota),
                    "" if cap is None else str(cap),
                    nik_hash,
                    str(int(purge_at.timestamp() * 1000)),
                    "" if service.daily_quota is None else str(service.daily_quota),
                ],
            )
            try:
                result = await self.store.run("book", site, idem, extra)
            except Conflict as exc:
                if exc.code == "code_taken":
                    continue
                raise
            return dict(result["booking"])
        raise Conflict("Could not draw a booking code; try again.", code="busy")

    async def cancel(self, site: Site, booking_id: str, *, idem: Idem | None) -> dict[str, Any]:
        b = await self.get(site, booking_id)
        result = await self.store.run(
            "booking_cancel",
            site,
            idem,
            (
                [
                    keys.bookings(site.id),
                    keys.booking_taken(site.id, b["date"]),
                    keys.booking_niks(site.id, b["date"]),
                    keys.booking_ends(site.id),
                ],
                [b["id"], b["date"]],
            ),
        )
        return dict(result["booking"])

    async def check_in(
        self, site: Site, code: str, *, idem: Idem | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The booking of `code` becomes a waiting ticket now: (ticket, booking)."""
        b = await self.by_code(site, code)
        service = site.service_by_id.get(b["service"])
        if service is None:
            raise NotFound("This booking's service is no longer offered here.")
        session = BookingSession((), b["start"], b["end"], 1)
        opens = window(site, date.fromisoformat(b["date"]), session).opens
        opens_at = opens.isoformat(timespec="minutes")
        ticket_id = secrets.token_urlsafe(16)
        margin_ms = site.booking_check_in_margin_min * 60_000

        def extra(today: str) -> Extra:
            return (
                [
                    keys.bookings(site.id),
                    keys.booking_codes(site.id),
                    keys.booking_ends(site.id),
                    keys.numbers(site.id, today),
                    keys.issued(site.id, today),
                    keys.queue(site.id, service.id),
                    keys.day_tickets(site.id, today),
                    keys.days(site.id),
                    keys.booking_taken(site.id, today),
                ],
                [
                    b["code"],
                    ticket_id,
                    str(margin_ms),
                    "1" if site.booked_first else "0",
                    service.prefix,
                    opens_at,
                    service.id,
                ],
            )

        try:
            result = await self.store.run("check_in", site, idem, extra)
        except LoketError as exc:
            if exc.code == "too_early":
                exc.details = {"opens_at": opens_at}
            raise
        return dict(result["ticket"]), dict(result["booking"])

    async def expire(self, site: Site, limit: int = 500) -> tuple[int, int]:
        """Expire bookings whose session ended unchecked; delete personal data that is
        due. (expired, purged)."""
        result = await self.store.run(
            "booking_expire",
            site,
            None,
            (
                [
                    keys.bookings(site.id),
                    keys.booking_ends(site.id),
                    keys.booking_purge(site.id),
                    keys.booking_codes(site.id),
                    keys.booking_taken_prefix(site.id),
                ],
                [str(limit)],
            ),
        )
        return int(result["expired"]), int(result["purged"])


_REFUSALS = {
    "date_past": "That date is past.",
    "date_too_far": "Bookings for that date are not open yet.",
    "holiday": "That date is a holiday: the service is closed.",
    "no_sessions": "The service takes no bookings on that day.",
}
