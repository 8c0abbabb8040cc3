"""GET /metrics: who may read it, and that requests (by route template), open websockets,
published events, store restarts and several workers' figures show up in it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from server import auth
from server.errors import InvalidField
from tests.conftest import ADMIN_TOKEN, LiveServer, free_port, loket_env, start_serve, stop
from tests.test_supervision import store_pid, wait_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ACTION_ROUTE = "/api/v1/sites/{site}/counters/{counter}/{action}"
TICKET_ROUTE = "/api/v1/sites/{site}/tickets/{ticket}"


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 if none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def scrape(base_url: str, token: str = ADMIN_TOKEN) -> str:
    r = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def test_metrics_need_the_admin_or_a_metrics_token(server: LiveServer) -> None:
    site = server.new_site()
    r = httpx.get(f"{server.url}/metrics")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    kiosk = server.token("kiosk", site)
    r = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {kiosk}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401
    assert "loket_http_requests_total" in scrape(server.url)
    assert "loket_http_requests_total" in scrape(server.url, server.token("metrics"))


def test_a_metrics_token_has_no_site_and_no_other_power(server: LiveServer) -> None:
    auth.check_role("metrics", None)
    with pytest.raises(InvalidField):
        auth.check_role("metrics", "bogor")
    site = server.new_site()
    h = {"Authorization": f"Bearer {server.token('metrics')}"}
    base = f"{server.url}/api/v1/sites/{site}"
    assert httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=h).status_code == 403
    assert httpx.get(f"{base}/reports", headers=h).status_code == 403


def test_requests_count_by_route_template_never_the_raw_path(server: LiveServer) -> None:
    site = server.new_site()
    base = f"{server.url}/api/v1/sites/{site}"
    before = scrape(server.url)
    ticket = httpx.post(f"{base}/tickets", json={"service": "ktp-el"}, headers=ADMIN).json()
    ticket_id = ticket["ticket"]["id"]
    assert httpx.get(f"{base}/tickets/{ticket_id}").status_code == 200
    assert httpx.post(f"{base}/counters/loket-1/next", headers=ADMIN).status_code == 200
    assert httpx.get(f"{server.url}/no/such/{ticket_id}").status_code == 404
    after = scrape(server.url)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    got = {"method": "GET", "route": TICKET_ROUTE, "status": "2xx"}
    assert delta("loket_http_requests_total", **got) == 1
    assert delta("loket_http_request_duration_seconds_count", **got) == 1
    assert delta("loket_http_requests_total", method="POST", route=ACTION_ROUTE) == 1
    assert delta("loket_counter_action_duration_seconds_count", action="next") == 1
    assert delta("loket_http_requests_total", route="unmatched", status="4xx") == 1
    assert ticket_id not in after


async def test_sockets_events_and_send_latency(server: LiveServer) -> None:
    site = server.new_site()
    url = f"ws://127.0.0.1:{server.port}/ws/sites/{site}/events"
    before = await asyncio.to_thread(scrape, server.url)
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN) as c,
        websockets.connect(url) as ws,
    ):
        assert json.loads(await ws.recv())["type"] == "snapshot"
        r = await c.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
        assert r.status_code == 201
        event = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert event["type"] == "ticket.issued"  # delivered: subscribed, and sent
        during = await asyncio.to_thread(scrape, server.url)
    assert sample(during, "loket_websocket_connections", site=site) == 1

    def delta(name: str, **labels: str) -> float:
        return sample(during, name, **labels) - sample(before, name, **labels)

    assert delta("loket_events_published_total", type="ticket.issued") == 1
    assert delta("loket_event_send_seconds_count") >= 1
    # the socket is gone: the next event finds it so, and the gauge drops
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN) as c:
        await c.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
    await asyncio.to_thread(
        wait_for,
        lambda: sample(scrape(server.url), "loket_websocket_connections", site=site) == 0,
        10,
    )


def test_a_lost_store_counts_as_store_errors(tmp_path: Path) -> None:
    dead = LiveServer(f"unix://{tmp_path / 'nobody-listens.sock'}")
    dead.start()
    try:
        before = sample(scrape(dead.url), "loket_store_errors_total", where="request")
        r = httpx.get(f"{dead.url}/api/v1/sites/bogor/state")
        assert r.status_code == 503 and r.json()["error"]["code"] == "storage_unavailable"
        after = sample(scrape(dead.url), "loket_store_errors_total", where="request")
        assert after - before == 1
    finally:
        dead.stop()


def test_importing_the_cli_leaves_prometheus_client_alone() -> None:
    """`loket serve --workers N` sets PROMETHEUS_MULTIPROC_DIR before prometheus_client
    is imported (it reads it then): nothing the CLI imports at start may import it."""
    probe = "import sys, server.cli; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def per_process(metrics_dir: Path, name: str, **labels: str) -> dict[int, float]:
    """A counter's figure in each process's own file (prometheus-client's reader)."""
    out: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rpartition("_")[2])
        for metric in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for s in metric.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    out[pid] = out.get(pid, 0.0) + s.value
    return out


def test_two_workers_report_each_others_figures(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    log = tmp_path / "serve.log"
    env = loket_env(PATH=str(Path(sys.executable).parent))
    proc = start_serve(log, port, "--workers", "2", "--data-dir", str(data), env=env)
    base = f"http://127.0.0.1:{port}"
    metrics_dir = data.resolve() / "metrics" / str(proc.pid)
    healthz = {"route": "/healthz", "status": "2xx"}
    try:
        assert metrics_dir.is_dir()
        # fresh connections until both workers have answered some
        made = 0

        def both_answered() -> bool:
            nonlocal made
            for _ in range(10):
                assert httpx.get(f"{base}/healthz").status_code == 200
                made += 1
            served = per_process(metrics_dir, "loket_http_requests_total", **healthz)
            return len([n for n in served.values() if n > 0]) >= 2

        wait_for(both_answered)
        workers = per_process(metrics_dir, "loket_http_requests_total", **healthz)
        assert proc.pid not in workers and sum(workers.values()) == made
        # whichever worker answers the scrape, it reports both workers' requests
        for _ in range(4):
            assert sample(scrape(base), "loket_http_requests_total", **healthz) == made

        # the store's supervisor is the serve process, which serves no request: its
        # restart count shows in the workers' /metrics
        old = store_pid(data)
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: sample(scrape(base), "loket_embedded_store_restarts_total") == 1)
    finally:
        stop(proc)
    assert not metrics_dir.exists()  # removed when loket serve ends
    access = [ln for ln in log.read_text().splitlines() if " GET /healthz 200 " in ln]
    assert len(access) == made  # the text access lines, from both workers
