"""Structured logs: one JSON line per request, with a request id, and never a ticket id,
a token or a cookie."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server import logs
from tests.conftest import ADMIN_TOKEN, LiveServer, free_port, loket_env, start_serve, stop

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FIELDS = {"ts", "level", "request_id", "method", "route", "status", "duration_ms", "client"}


class Lines(logging.Handler):
    """What the JSON formatter makes of each record."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logs.JsonFormatter())
        self.addFilter(logs.RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Lines]:
    logger = logging.getLogger("loket")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def access_lines(lines: list[str]) -> list[dict[str, object]]:
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    return [p for p in parsed if p["logger"] == "loket.access"]


def test_ticket_ids_tokens_and_cookies_never_reach_the_log(
    server: LiveServer, captured: Lines
) -> None:
    site = server.new_site()
    kiosk = server.token("kiosk", site)
    r = httpx.post(
        f"{server.url}/api/v1/sites/{site}/tickets", json={"service": "ktp-el"}, headers=ADMIN
    )
    ticket = r.json()["ticket"]["id"]
    secret_cookie = "cookie-value-that-must-not-be-logged"
    pages = httpx.get(f"{server.url}/t/{site}/{ticket}", cookies={"loket_device": secret_cookie})
    assert pages.status_code == 200
    api = httpx.get(
        f"{server.url}/api/v1/sites/{site}/tickets/{ticket}?token={kiosk}&x={ticket}",
        headers={"Authorization": f"Bearer {kiosk}"},
    )
    assert api.status_code == 200
    text = "\n".join(captured.lines)
    for secret in (ticket, kiosk, ADMIN_TOKEN, secret_cookie):
        assert secret not in text
    lines = access_lines(captured.lines)
    assert [(a["method"], a["route"], a["status"]) for a in lines] == [
        ("POST", "/api/v1/sites/{site}/tickets", 201),
        ("GET", "/t/{site}/{ticket_id}", 200),
        ("GET", "/api/v1/sites/{site}/tickets/{ticket}", 200),
    ]
    for line, response in zip(lines, (r, pages, api), strict=True):
        assert set(line) >= FIELDS
        assert line["level"] == "info" and line["client"] == "127.0.0.1"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert str(line["ts"]).endswith("Z")
        assert line["request_id"] == response.headers["x-request-id"]


def test_a_sane_request_id_is_kept_and_any_other_replaced(
    server: LiveServer, captured: Lines
) -> None:
    sent = ["abc-123.DEF_4:5", "two words", "x" * 200, 'say "hi"', ""]
    answered = []
    for rid in sent:
        r = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": rid})
        answered.append(r.headers["x-request-id"])
    assert answered[0] == sent[0]
    for rid in answered[1:]:
        assert len(rid) == 16 and rid not in sent
    assert [a["request_id"] for a in access_lines(captured.lines)] == answered


def test_records_logged_during_a_request_carry_its_id(captured: Lines) -> None:
    token = logs.REQUEST_ID.set("req-1")
    try:
        logging.getLogger("loket.test").warning("inside")
    finally:
        logs.REQUEST_ID.reset(token)
    logging.getLogger("loket.test").warning("outside")
    inside, outside = (json.loads(line) for line in captured.lines)
    assert (inside["request_id"], inside["message"], inside["level"]) == (
        "req-1",
        "inside",
        "warning",
    )
    assert outside["request_id"] is None


def test_serve_with_json_logs_from_two_workers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    log = tmp_path / "serve.log"
    env = loket_env(PATH=str(Path(sys.executable).parent))
    args = ("--workers", "2", "--log-format", "json", "--data-dir", str(data))
    proc = start_serve(log, port, *args, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        r = httpx.post(
            f"{base}/api/v1/sites/bogor/tickets", json={"service": "ktp-el"}, headers=ADMIN
        )
        ticket = r.json()["ticket"]["id"]
        assert httpx.get(f"{base}/t/bogor/{ticket}").status_code == 200
        assert httpx.get(f"{base}/api/v1/sites/bogor/tickets/{ticket}").status_code == 200
    finally:
        stop(proc)
    text = log.read_text()
    assert ticket not in text
    # stdout's banner is plain text; every log record is one JSON object
    records = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
    routes = [p["route"] for p in records if p["logger"] == "loket.access"]
    assert "/t/{site}/{ticket_id}" in routes
    assert "/api/v1/sites/{site}/tickets/{ticket}" in routes
    assert not [ln for ln in text.splitlines() if "loket.access" in ln and not ln.startswith("{")]
