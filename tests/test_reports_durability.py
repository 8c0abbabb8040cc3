"""The figures survive kill -9: a real `loket serve` on the embedded store is driven
through HTTP, killed with SIGKILL while requests are in flight, started again on the
same data directory and driven on; then every report agrees with the truth computed
from the event log (/events), which holds everything that happened. The rollups are
written in the same atomic step as the events, so no kill can split them."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from server import config
from tests.conftest import ADMIN_TOKEN, free_port, loket_env, run_loket, start_serve, stop
from tests.test_reports import BYS, ELEMENTS, Truth, check_report

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SERVICES = ("ktp-el", "ktp-el-cetak", "ktp-el-ubah")
COUNTERS = ("loket-1", "loket-2", "loket-3")


def serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    # the store must come from the wheel, not from a redis-server on PATH: hide PATH
    env = loket_env(PATH=str(Path(sys.executable).parent))
    return start_serve(data.parent / f"serve-{port}.log", port, "--data-dir", str(data), env=env)


def answers_of(ticket_id: str) -> dict[str, Any]:
    """The rating a ticket gets: the same on every attempt (a retry after the kill)."""
    rng = random.Random(hashlib.sha256(ticket_id.encode()).digest())
    body: dict[str, Any] = {"score": rng.randint(1, 4)}
    r = rng.random()
    if r < 0.5:
        body["answers"] = {el: rng.randint(1, 4) for el in ELEMENTS}
    elif r < 0.7:
        body["answers"] = {el: rng.randint(1, 4) for el in ELEMENTS[:4]}
    return body


class Driver:
    """Random traffic at three counters, each driven by its own supervisor token (so the
    officer of a call is the token's name). Refusals (409) are part of the traffic."""

    def __init__(self, base: str, tokens: dict[str, str], seed: int) -> None:
        self.base = base
        self.tokens = tokens
        self.rng = random.Random(seed)
        self.tickets: list[str] = []
        self.sent = 0

    def post(self, path: str, token: str = ADMIN_TOKEN, **body: Any) -> httpx.Response:
        self.sent += 1
        return httpx.post(
            f"{self.base}{path}",
            json=body or None,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def step(self) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.25 or not self.tickets:
            res = self.post("/tickets", service=rng.choice(SERVICES))
            assert res.status_code == 201, res.text
            self.tickets.append(res.json()["ticket"]["id"])
            return
        if r < 0.3:
            self.post(f"/tickets/{rng.choice(self.tickets)}/cancel")
            return
        if r < 0.4:
            ticket = rng.choice(self.tickets)
            self.post(f"/tickets/{ticket}/rating", **answers_of(ticket))
            return
        counter = rng.choice(COUNTERS)
        token = self.tokens[counter]
        x = rng.random()
        if x < 0.35:
            action = "next"
        elif x < 0.5:
            action = "start"
        elif x < 0.6:
            action = "finish"
        elif x < 0.67:
            action = "recall"
        elif x < 0.74:
            action = "no-show"
        elif x < 0.82:
            self.post(f"/counters/{counter}/transfer", token, service=rng.choice(SERVICES))
            return
        elif x < 0.92:
            # out of turn, or a latecomer (a no-show called again); often refused
            self.post(f"/counters/{counter}/call", token, ticket=rng.choice(self.tickets))
            return
        elif x < 0.96:
            action = "pause"
        else:
            action = "resume"
        self.post(f"/counters/{counter}/{action}", token)


def events_of(base: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        since = events[-1]["seq"] if events else 0
        page = httpx.get(f"{base}/events", params={"since": since}, headers=H, timeout=10).json()
        assert page["complete"]
        if not page["events"]:
            return events
        events += page["events"]


def test_figures_agree_with_the_log_after_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1/sites/bogor"
    proc = serve(data, port)
    tokens: dict[str, str] = {}
    try:
        for counter in COUNTERS:
            out = run_loket(
                "token", "create", "--role", "supervisor", "--site", "bogor",
                "--name", f"petugas-{counter}", "--data-dir", str(data),
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            tokens[counter] = out.stdout.strip().splitlines()[-1]
        driver = Driver(base, tokens, seed=11)
        for _ in range(150):
            driver.step()

        # the kill: while a second driver's requests are in flight
        burst = Driver(base, tokens, seed=12)
        burst.tickets = list(driver.tickets)
        going = threading.Event()

        def traffic() -> None:
            try:
                while True:
                    burst.step()
                    if burst.sent >= 10:
                        going.set()
            except (httpx.HTTPError, AssertionError):
                going.set()  # the server is gone

        worker = threading.Thread(target=traffic, daemon=True)
        worker.start()
        assert going.wait(30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    worker.join(30)
    assert not worker.is_alive()

    proc = serve(data, port)
    try:
        driver.tickets += burst.tickets
        for _ in range(150):
            driver.step()
        events = events_of(base)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert {e["type"] for e in events} >= {
            "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started",
            "ticket.finished", "ticket.no_show", "ticket.transferred", "ticket.cancelled",
            "ticket.rated", "counter.paused",
        }  # fmt: skip
        officers = {c: f"petugas-{c}" for c in COUNTERS}
        answers = {t: answers_of(t).get("answers", {}) for t in driver.tickets}
        site = config.load_demo("bogor")  # what `loket serve` loaded
        truth = Truth(
            events,
            officer_of=lambda e: officers[e["counter"]["id"]],
            answers=answers,
            targets={s.id: (s.target_wait_min, s.target_service_min) for s in site.services},
        )
        days = sorted({e["at"][:10] for e in events})
        for by in BYS:
            r = httpx.get(
                f"{base}/reports",
                params={"from": days[0], "to": days[-1], "by": by},
                headers=H,
                timeout=10,
            )
            assert r.status_code == 200, r.text
            # the log's times are whole seconds, the store's milliseconds
            check_report(r.json(), truth, site, by, days, close=1.1)
        total = r.json()["total"]
        assert total["issued"] > 50 and total["served"] > 5 and total["rating"]["n"] > 0
    finally:
        stop(proc)
