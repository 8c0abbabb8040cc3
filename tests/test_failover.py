"""A Redis Cluster shard failing over under two real `loket serve` processes.

Six real Valkey processes (the bundled binary: 3 masters, 3 replicas, a 1 s
`cluster-node-timeout`) formed into a cluster with CLUSTER MEET/ADDSLOTSRANGE/REPLICATE;
two `loket serve --redis-cluster` processes on it, each with display websockets; tickets
issued and called through both. Then the link from the master of the site's slot to its
replica is cut (the replica can no longer authenticate to it: a partition), tickets are
issued, and the master is killed (SIGKILL): its replica, which never got those tickets,
is promoted.

- Without WAIT (asynchronous replication) the master answered 201 for tickets the
  promoted replica never had: acknowledged tickets are lost, and their numbers are given
  again (test_without_wait_acknowledged_tickets_are_lost shows it happen).
- With `--redis-wait-replicas 1` no change is answered before a replica has it, and no
  screen is shown an event before a replica has it: every acknowledged ticket survives,
  numbered once, and every screen ends with every event of the log, after reconnecting
  with `since`/`epoch` (test_failover_with_wait_loses_nothing).

The timings measured here are printed (pytest -s) and quoted in docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import websockets
from redis.crc import key_slot

from server.embedded_redis import server_binary
from tests.conftest import ADMIN_TOKEN, free_port, loket_env, start_serve, stop

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SITE = "bogor"  # the demo site `loket serve` loads into an empty store
SLOT = key_slot(b"{bogor}")
SINCE_AHEAD = "since is ahead of the log"


@dataclass
class Node:
    port: int
    bus: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                str(server_binary()),
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
                *("--save", "", "--appendonly", "no", "--logfile", "valkey.log"),
                *("--cluster-enabled", "yes", "--cluster-port", str(self.bus)),
                *("--cluster-config-file", str(self.dir / "nodes.conf")),
                *("--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0"),
                *("--repl-diskless-sync-delay", "0"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, f"valkey on {self.port} did not start"
                time.sleep(0.02)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=5)

    def cmd(self, *args: Any) -> Any:
        with self.client() as c:
            return c.execute_command(*args)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class Cluster:
    """3 masters with one replica each, on loopback ports, in `base`."""

    def __init__(self, base: Path) -> None:
        self.nodes = [Node(free_port(), free_port(), base / f"node{i}") for i in range(6)]

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        ids = [node.cmd("CLUSTER", "MYID") for node in self.nodes]
        for i, node in enumerate(self.nodes):  # distinct epochs: no collisions to settle
            node.cmd("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            first.cmd("CLUSTER", "MEET", "127.0.0.1", node.port, node.bus)
        for node, (lo, hi) in zip(
            self.nodes, [(0, 5460), (5461, 10922), (10923, 16383)], strict=False
        ):
            node.cmd("CLUSTER", "ADDSLOTSRANGE", lo, hi)
        self.wait(lambda: all(len(n.cmd("CLUSTER", "NODES").splitlines()) == 6 for n in self.nodes))
        for replica, master_id in zip(self.nodes[3:], ids[:3], strict=True):
            self.wait(lambda r=replica, m=master_id: _ok(r.cmd, "CLUSTER", "REPLICATE", m))
        self.wait(self.healthy)

    def healthy(self) -> bool:
        alive = [n for n in self.nodes if n.proc and n.proc.poll() is None]
        if not all("cluster_state:ok" in n.cmd("CLUSTER", "INFO") for n in alive):
            return False
        replicas = [n for n in alive if n.cmd("ROLE")[0] == "slave"]
        return all(n.client().info("replication")["master_link_status"] == "up" for n in replicas)

    def wait(self, done: Any, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < deadline, "the cluster did not settle"
            time.sleep(0.05)

    def master_of(self, slot: int) -> tuple[Node, Node]:
        """The master holding `slot` and its replica."""
        for node in self.nodes:
            if node.proc is None or node.proc.poll() is not None:
                continue
            role = node.cmd("ROLE")
            if role[0] != "master":
                continue
            for lo, hi in _slot_ranges(node):
                if lo <= slot <= hi:
                    ports = {int(r[1]) for r in role[2]}
                    replica = next(n for n in self.nodes if n.port in ports)
                    return node, replica
        raise AssertionError(f"no master holds slot {slot}")

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.terminate()
        for node in self.nodes:
            if node.proc is not None:
                node.proc.wait(10)


def _ok(call: Any, *args: Any) -> bool:
    try:
        call(*args)
        return True
    except redis.ResponseError:
        return False


def _slot_ranges(node: Node) -> list[tuple[int, int]]:
    me = next(ln for ln in node.cmd("CLUSTER", "NODES").splitlines() if "myself" in ln)
    out = []
    for part in me.split()[8:]:
        lo, _, hi = part.partition("-")
        if lo.isdigit():
            out.append((int(lo), int(hi or lo)))
    return out


# -- screens and clicks ---------------------------------------------------------------


@dataclass
class Screen:
    """A display's websocket that reconnects, as the TV page does, with `since`/`epoch`."""

    url: str
    start: int | None = None  # seq of the first snapshot
    last: int | None = None
    epoch: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    snapshots: int = 0
    connects: int = 0
    closed_at: list[float] = field(default_factory=list)  # monotonic, each lost socket
    opened_at: list[float] = field(default_factory=list)  # ... and each (re)connect

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            query = f"?token={ADMIN_TOKEN}"
            if self.last is not None:
                query += f"&since={self.last}&epoch={self.epoch}"
            try:
                async with websockets.connect(self.url + query, open_timeout=3) as ws:
                    self.connects += 1
                    self.opened_at.append(time.monotonic())
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.2)
                        except TimeoutError:
                            continue
                        self.take(json.loads(raw))
            except websockets.ConnectionClosed as exc:
                if exc.rcvd is not None and SINCE_AHEAD in exc.rcvd.reason:
                    self.last = None  # the log went back: start over from a snapshot
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                pass
            self.closed_at.append(time.monotonic())
            await asyncio.sleep(0.1)

    def take(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "snapshot":
            self.snapshots += 1
            self.last, self.epoch = msg["seq"], msg["epoch"]
            if self.start is None:
                self.start = msg["seq"]
        elif msg["type"] == "ready":
            self.epoch = msg["epoch"]
        elif "seq" in msg:
            assert self.last is not None
            if msg["seq"] != self.last + 1:
                self.gaps.append((self.last, msg["seq"]))
            self.last = msg["seq"]
            self.events.append(msg)


@dataclass
class Clicks:
    """Tickets issued and called through the Loket processes in turn, each request
    retried with its Idempotency-Key while the store answers 503."""

    bases: list[str]
    acked: list[dict[str, Any]] = field(default_factory=list)  # (ticket, monotonic)
    answers: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, status)
    turn: int = 0
    sent: float = 0.0  # when the request being made was first sent

    async def post(self, client: httpx.AsyncClient, path: str, body: Any = None) -> Any:
        key = str(uuid.uuid4())
        self.sent = time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.turn += 1
            base = self.bases[self.turn % len(self.bases)]
            try:
                r = await client.post(
                    base + path, json=body, headers={**H, "Idempotency-Key": key}, timeout=5
                )
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
                continue
            self.answers.append((time.monotonic(), r.status_code))
            if r.status_code == 503:
                await asyncio.sleep(0.05)
                continue
            assert r.status_code in (200, 201), r.text
            return r.json()
        raise AssertionError(f"{path}: no answer but 503 for 30 s")

    async def issue(self, client: httpx.AsyncClient) -> dict[str, Any]:
        ticket = (await self.post(client, f"/api/v1/sites/{SITE}/tickets", {"service": "ktp-el"}))[
            "ticket"
        ]
        self.acked.append({**ticket, "acked_at": time.monotonic(), "sent_at": self.sent})
        return dict(ticket)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient() as client:
            n = 0
            while not stop.is_set():
                await self.issue(client)
                n += 1
                if n % 2 == 0:
                    await self.post(client, f"/api/v1/sites/{SITE}/counters/loket-{n % 4 + 1}/next")
                await asyncio.sleep(0.02)


def stored_log(base: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        page = httpx.get(f"{base}/api/v1/sites/{SITE}/events?since={len(events)}", headers=H)
        assert page.status_code == 200, page.text
        got = page.json()["events"]
        if not got:
            return events
        events.extend(got)


# -- the scenario ---------------------------------------------------------------------


@dataclass
class Outcome:
    acked: list[dict[str, Any]]
    log: list[dict[str, Any]]
    screens: list[Screen]
    timings: dict[str, float]
    cut_acked: int  # tickets asked for and answered 201 while the master had no replica


def failover(tmp_path: Path, wait_replicas: int) -> Outcome:
    cluster = Cluster(tmp_path / "cluster")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        cluster.start()
        entry = cluster.nodes[0].port
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            procs.append(
                start_serve(
                    tmp_path / f"serve-{i}.log",
                    port,
                    *("--redis-url", f"redis://127.0.0.1:{entry}", "--redis-cluster"),
                    *("--redis-wait-replicas", str(wait_replicas)),
                    *("--data-dir", str(tmp_path / f"data-{i}")),
                    env=loket_env(),
                )
            )
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        outcome = asyncio.run(_scenario(cluster, bases))
        outcome.log = stored_log(bases[0])
        return outcome
    finally:
        stop(*procs)
        cluster.stop()


async def _scenario(cluster: Cluster, bases: list[str]) -> Outcome:
    timings: dict[str, float] = {}
    stop_screens, stop_clicks = asyncio.Event(), asyncio.Event()
    screens = [
        Screen(f"ws://{b.removeprefix('http://')}/ws/sites/{SITE}/events") for b in bases * 2
    ]
    screen_tasks = [asyncio.create_task(s.run(stop_screens)) for s in screens]
    clicks = Clicks(bases)
    clicker = asyncio.create_task(clicks.run(stop_clicks))
    await asyncio.sleep(1.5)  # both processes take clicks, every screen sees them

    master, replica = cluster.master_of(SLOT)
    # A partition between the master and its replica: the replica can no longer log in
    # to its master, and its link is cut.
    replica.cmd("CONFIG", "SET", "masteruser", "nobody")
    replica.cmd("CONFIG", "SET", "masterauth", "wrong")
    master.cmd("CLIENT", "KILL", "TYPE", "replica")
    cut = time.monotonic()
    await asyncio.sleep(0.8)  # clicks go on: answered (no WAIT) or held, then 503 (WAIT)
    killed = time.monotonic()
    master.kill()
    replica.cmd("CONFIG", "SET", "masterauth", "")
    replica.cmd("CONFIG", "SET", "masteruser", "")
    while replica.cmd("ROLE")[0] != "master":
        assert time.monotonic() - killed < 20, "the replica was not promoted"
        await asyncio.sleep(0.02)
    promoted = time.monotonic()
    master.start()  # the orchestrator restarts the dead node: it rejoins as a replica
    await asyncio.to_thread(cluster.wait, cluster.healthy)
    rejoined = time.monotonic()
    while not any(t["sent_at"] > killed for t in clicks.acked):
        assert time.monotonic() - killed < 30, "no ticket was issued after the failover"
        await asyncio.sleep(0.02)
    first_after = min(t["acked_at"] for t in clicks.acked if t["sent_at"] > killed)
    await asyncio.sleep(1.5)  # clicks after the failover, through both processes
    stop_clicks.set()
    await clicker
    ended = time.monotonic()

    # Every screen catches up with the log's head (reconnecting with since/epoch).
    async with httpx.AsyncClient() as client:
        head = (await client.get(f"{bases[0]}/api/v1/sites/{SITE}/state", headers=H)).json()["seq"]
    while any(s.last != head for s in screens):
        assert time.monotonic() - ended < 15, [(s.last, head) for s in screens]
        await asyncio.sleep(0.05)
    stop_screens.set()
    await asyncio.gather(*screen_tasks)

    back = [max(s.opened_at) for s in screens]  # the socket that stayed
    lost = [min((t for t in s.closed_at if t > cut), default=float("nan")) for s in screens]
    timings = {
        "kill_to_promoted_s": promoted - killed,
        "kill_to_first_201_of_a_request_sent_after_s": first_after - killed,
        "kill_to_node_rejoined_s": rejoined - killed,
        "kill_to_last_screen_back_s": max(back) - killed,
        "cut_to_first_screen_lost_s": min(lost) - cut,
        "statuses_503": sum(1 for t, s in clicks.answers if s == 503),
    }
    cut_acked = sum(1 for t in clicks.acked if cut < t["sent_at"] and t["acked_at"] < killed)
    print(f"\nfailover timings: {json.dumps({k: round(v, 3) for k, v in timings.items()})}")
    return Outcome(clicks.acked, [], screens, timings, cut_acked)


def test_failover_with_wait_loses_nothing(tmp_path: Path) -> None:
    out = failover(tmp_path, wait_replicas=1)
    seqs = [e["seq"] for e in out.log]
    assert seqs == list(range(1, len(seqs) + 1))  # the log itself is gapless
    by_seq = {e["seq"]: e for e in out.log}
    stored = {e["ticket"]["id"]: e["ticket"] for e in out.log if e["type"] == "ticket.issued"}
    # every acknowledged ticket is in the store, numbered once
    assert out.cut_acked == 0  # nothing asked for while no replica could have it was answered
    assert all(t["id"] in stored for t in out.acked), "an acknowledged ticket was lost"
    assert all(stored[t["id"]]["number"] == t["number"] for t in out.acked)
    numbers = [t["number"] for t in stored.values()]
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    assert any(t["acked_at"] for t in out.acked)
    # every screen has every event of the log from its first snapshot on, in order, once
    for screen in out.screens:
        assert screen.snapshots == 1 and screen.start is not None
        assert not screen.gaps
        assert [e["seq"] for e in screen.events] == seqs[screen.start :]
        assert all(e == by_seq[e["seq"]] for e in screen.events)


def test_without_wait_acknowledged_tickets_are_lost(tmp_path: Path) -> None:
    """Why --redis-wait-replicas exists: with asynchronous replication the master answers
    201 for tickets its replica never gets; the promoted replica numbers tickets again."""
    out = failover(tmp_path, wait_replicas=0)
    stored = {e["ticket"]["id"] for e in out.log if e["type"] == "ticket.issued"}
    lost = [t for t in out.acked if t["id"] not in stored]
    assert out.cut_acked > 0 and len(lost) >= out.cut_acked
    kept = {t["number"] for t in out.acked if t["id"] in stored}
    assert kept & {t["number"] for t in lost}  # ... and their numbers were given again
