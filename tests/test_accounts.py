"""Accounts and tokens: the `loket user ...` and `loket token ...` commands, the evaluator
role, the login rate limits and password hashing off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from server import auth, cli
from server.errors import InvalidField, Unauthorized
from server.store import Store
from tests.conftest import LiveServer, fresh_site_id

PASSWORD = "rahasia-123"


def loket(redis_url: str, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """`loket ARGV --redis-url URL` in this process (in a thread of its own, so its
    `asyncio.run` leaves the test's event loop alone): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                return cli.main([*argv, "--redis-url", redis_url])
        finally:
            sys.stdin = old_stdin

    with ThreadPoolExecutor(1) as pool:
        code = pool.submit(run).result(30)
    return code, out.getvalue(), err.getvalue()


def login(url: str, username: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/auth/login", json={"username": username, "password": password})


def unique(prefix: str) -> str:
    """A username no other test uses (accounts are global to the store)."""
    return fresh_site_id(prefix)


# -- tokens ---------------------------------------------------------------------------


def test_token_list_shows_no_secret_and_old_tokens(server: LiveServer, redis_url: str) -> None:
    site = server.new_site()
    code, out, _ = loket(
        redis_url, "token", "create", "--role", "kiosk", "--site", site, "--name", "kiosk-lobby"
    )
    assert code == 0
    kiosk = out.strip().splitlines()[-1]
    # a token stored before tokens kept their creation time
    legacy = auth.new_token()
    old = {"role": "display", "site": site, "name": "tv-old", "counters": []}
    server.run(server.store.accounts.put_token(auth.digest(legacy), old))

    code, out, err = loket(redis_url, "token", "list", "--site", site)
    assert code == 0 and err == ""
    lines = {line.split()[0]: line.split() for line in out.splitlines()}
    assert set(lines) == {"kiosk-lobby", "tv-old"}
    _, role, site_, created, id_ = lines["kiosk-lobby"]
    assert (role, site_, id_) == ("kiosk", site, auth.digest(kiosk)[-4:])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    assert lines["tv-old"][1:] == ["display", site, "-", auth.digest(legacy)[-4:]]
    assert kiosk not in out and legacy not in out

    code, out, _ = loket(redis_url, "token", "list")
    assert "kiosk-lobby" in out  # every site's tokens without --site


def test_token_revoke_by_name_or_token(server: LiveServer, redis_url: str) -> None:
    site = server.new_site()
    tv1 = server.token("display", site, name="tv-lobby")
    tv2 = server.token("display", site, name="tv-lobby")
    kiosk = server.token("kiosk", site, name="kiosk-1")

    def names() -> list[str]:
        return [t.name for t in server.run(auth.list_tokens(server.store, site))]

    code, _, err = loket(redis_url, "token", "revoke", "tv-lobby")
    assert code == 1 and "2 tokens are named 'tv-lobby'" in err and "none revoked" in err
    assert names() == ["kiosk-1", "tv-lobby", "tv-lobby"]

    code, _, err = loket(redis_url, "token", "revoke", "no-such-device")
    assert code == 1 and "no token matches" in err
    assert len(names()) == 3

    code, out, _ = loket(redis_url, "token", "revoke", kiosk)  # the token itself
    assert code == 0 and "kiosk-1" in out and kiosk not in out
    code, out, _ = loket(redis_url, "token", "revoke", "tv-lobby", "--id", auth.digest(tv2)[-4:])
    assert code == 0
    assert names() == ["tv-lobby"]
    code, _, _ = loket(redis_url, "token", "revoke", "tv-lobby", "--site", site)
    assert code == 0 and names() == []
    assert server.run(server.store.accounts.token(auth.digest(tv1))) is None


# -- users ----------------------------------------------------------------------------


def test_user_add_list_remove(server: LiveServer, redis_url: str) -> None:
    site = server.new_site()
    name = unique("budi")
    code, out, _ = loket(
        redis_url,
        "user", "add", name, "--role", "officer", "--site", site,
        "--counter", "loket-1", "--counter", "loket-2", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0 and f"account {name}" in out
    code, out, _ = loket(redis_url, "user", "list")
    assert code == 0 and PASSWORD not in out and "argon2" not in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    assert rows[name] == [name, "officer", site, "loket-1,loket-2"]
    assert login(server.url, name).status_code == 200

    code, out, _ = loket(redis_url, "user", "remove", name)
    assert code == 0 and "removed" in out
    assert name not in loket(redis_url, "user", "list")[1]
    assert login(server.url, name).status_code == 401
    code, _, err = loket(redis_url, "user", "remove", name)
    assert code == 1 and f"no account named {name!r}" in err


def test_evaluator_has_no_site(server: LiveServer, redis_url: str) -> None:
    site = server.new_site()
    eva = unique("eva")
    add = ("user", "add", eva, "--role", "evaluator", "--password-stdin")
    code, _, err = loket(redis_url, *add, "--site", site, stdin=PASSWORD + "\n")
    assert code == 1 and "an evaluator reads every site: give no site" in err
    assert server.run(server.store.accounts.user(eva)) is None
    code, out, err = loket(redis_url, *add, stdin=PASSWORD + "\n")
    assert (code, err) == (0, "")
    r = login(server.url, eva)
    assert r.status_code == 200 and (r.json()["role"], r.json()["site"]) == ("evaluator", None)
    row = next(line.split() for line in loket(redis_url, "user", "list")[1].splitlines()
               if line.split()[0] == eva)  # fmt: skip
    assert row == [eva, "evaluator", "-", "-"]

    create = ("token", "create", "--role", "evaluator", "--name", "dinas-kominfo")
    code, _, err = loket(redis_url, *create, "--site", site)
    assert code == 1 and "give no site" in err
    code, out, _ = loket(redis_url, *create)
    assert code == 0
    token = out.strip().splitlines()[-1]
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.json()["role"], me.json()["site"]) == ("evaluator", None)
    # a site role still needs its site
    code, _, err = loket(redis_url, "token", "create", "--role", "kiosk")
    assert code == 1 and "a kiosk belongs to a site" in err


# -- login limits ---------------------------------------------------------------------


async def test_failures_lock_one_username_not_the_address(server: LiveServer) -> None:
    site = server.new_site()
    victim, colleague, busy = unique("ani"), unique("bayu"), unique("cici")
    for name in (victim, colleague, busy):
        server.user(name, PASSWORD, "officer", site, ["loket-1"])
    url = "/api/v1/auth/login"
    async with httpx.AsyncClient(base_url=server.url) as c:

        async def attempt(name: str, password: str) -> int:
            r = await c.post(url, json={"username": name, "password": password})
            return r.status_code

        # a successful login does not count against its username: more than the limit
        # in a row (over two windows at worst, still more than the limit in one)
        for _ in range(2 * auth.LOGIN_FAILURES_PER_MINUTE + 3):
            assert await attempt(busy, PASSWORD) == 200
        failures = []
        for _ in range(2 * auth.LOGIN_FAILURES_PER_MINUTE + 1):
            failures.append(await attempt(victim, "wrong-guess"))
            if failures[-1] == 429:
                break
        assert failures[-1] == 429 and set(failures[:-1]) == {401}
        assert len(failures) > auth.LOGIN_FAILURES_PER_MINUTE
        assert await attempt(victim, PASSWORD) == 429  # locked for the rest of the minute
        r = await c.post(url, json={"username": victim, "password": PASSWORD})
        assert r.json()["error"]["code"] == "rate_limited"
        # the same address logs the colleague in
        assert await attempt(colleague, PASSWORD) == 200


async def test_address_limit_counts_failures_only(redis_url: str) -> None:
    limit = 15
    live = LiveServer(redis_url)
    live.settings.login_rate_per_minute = limit  # per address
    live.start()
    try:
        site = live.new_site()
        office = [unique("staf") for _ in range(3)]
        for name in office:
            live.user(name, PASSWORD, "officer", site, ["loket-1"])
        # from an address of its own: the store counts every server's logins per address
        address = f"127.{random.randrange(1, 255)}.{random.randrange(1, 255)}.1"
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(base_url=live.url, transport=transport) as c:

            async def attempt(name: str, password: str = "wrong-guess") -> int:
                r = await c.post(
                    "/api/v1/auth/login", json={"username": name, "password": password}
                )
                return r.status_code

            # an office logging in: more successes than the limit, none counted
            for i in range(limit + 5):
                assert await attempt(office[i % 3], PASSWORD) == 200
            # hammering one account: only its own checked failures count for the address
            codes = [await attempt(office[0]) for _ in range(3 * auth.LOGIN_FAILURES_PER_MINUTE)]
            assert codes[-1] == 429 and codes.count(401) <= 2 * auth.LOGIN_FAILURES_PER_MINUTE
            assert await attempt(office[1], PASSWORD) == 200
            # guessing across usernames: the address limit
            codes = []
            for _ in range(2 * limit):
                codes.append(await attempt(unique("nobody")))
                if codes[-1] == 429:
                    break
            assert codes[-1] == 429 and codes.count(401) <= limit
            assert await attempt(office[2], PASSWORD) == 429  # the address, for a minute
    finally:
        live.stop()


# -- hashing off the event loop -------------------------------------------------------


async def test_login_flood_leaves_the_server_responsive(server: LiveServer) -> None:
    site = server.new_site()
    names = [unique("flood") for _ in range(3)]
    for name in names:
        server.user(name, PASSWORD, "officer", site, ["loket-1"])
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:

        async def one(name: str) -> float:
            start = time.perf_counter()
            r = await c.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return time.perf_counter() - start

        logins = asyncio.gather(*(one(names[i % 3]) for i in range(15)))
        start = time.perf_counter()
        assert (await c.get("/healthz")).status_code == 200
        health_s = time.perf_counter() - start
        assert not logins.done()
        durations = await logins
    assert health_s < min(durations)


async def test_hashing_never_blocks_the_loop(store: Store) -> None:
    """The event loop keeps turning while logins verify passwords. On the loop, each
    argon2 verification would stop it for its whole ~0.1 s: the loop would stand still
    nearly all the time the flood takes."""
    name = unique("lag")
    await auth.create_user(store, name, PASSWORD, "officer", "x", [])
    authenticator = auth.Authenticator(store, "admin-token")
    flood = asyncio.gather(
        *(authenticator.login(name, "wrong-guess") for _ in range(8)), return_exceptions=True
    )
    gaps: list[float] = []
    start = last = time.perf_counter()
    while not flood.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    flood_s = time.perf_counter() - start
    results = await flood
    assert all(isinstance(r, Unauthorized) for r in results), results
    stalled_s = sum(g for g in gaps if g > 0.02)
    # On the loop the stall is the whole flood (measured 0.92 s of 0.92 s); in threads
    # it is a small part of it. The bound leaves room for a machine busy with other work.
    assert stalled_s < flood_s * 0.8, (stalled_s, flood_s, max(gaps))


@pytest.mark.parametrize("role", ["kiosk", "officer"])
def test_site_roles_need_a_site(role: str) -> None:
    with pytest.raises(InvalidField, match="belongs to a site"):
        auth.check_role(role, None)
