"""The administration API against a live server: configuration with its version,
new sites, a service's open flag, accounts and tokens, each change in the audit log,
and who may do what."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, LiveServer, fresh_site_id

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    if code:
        assert err["code"] == code, err
    return err


async def audit(api: httpx.AsyncClient, site: str | None = None) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/audit", params={"site": site} if site else {})
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


async def read_config(api: httpx.AsyncClient, site: str) -> dict[str, Any]:
    r = await api.get(f"/api/v1/sites/{site}/config")
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    assert r.headers["etag"] == f'"{doc["version"]}"'
    return doc


async def put_config(
    api: httpx.AsyncClient, site: str, doc: dict[str, Any], version: int | None
) -> httpx.Response:
    headers = {} if version is None else {"If-Match": str(version)}
    return await api.put(f"/api/v1/sites/{site}/config", json=doc, headers=headers)


# -- configuration ------------------------------------------------------------------------


async def test_config_round_trip_and_version_check(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    site = server.new_site()
    doc = await read_config(api, site)
    version = doc["version"]
    assert doc["site"]["id"] == site and len(doc["services"]) == 147
    # add a service and a counter; change a quota
    changed = copy.deepcopy(doc)
    changed["services"].append(
        {"id": "legalisir-uji", "agency": "disdukcapil", "name": "Legalisir", "prefix": "ZZ"}
    )
    changed["counters"].append(
        {
            "id": "loket-99",
            "name": "Loket 99",
            "agency": "disdukcapil",
            "services": ["legalisir-uji"],
        }
    )
    changed["services"][0]["daily_quota"] = 50
    r = await put_config(api, site, changed, version)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == version + 1
    # the change is live: the public site document and a ticket of the new service
    public = (await api.get(f"/api/v1/sites/{site}")).json()
    assert "legalisir-uji" in {s["id"] for s in public["services"]}
    r = await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "legalisir-uji"})
    assert r.status_code == 201 and r.json()["ticket"]["number"] == "ZZ001"
    # a second save from the version read earlier is refused and changes nothing
    err = error(await put_config(api, site, doc, version), 412, "stale_version")
    assert err["version"] == version + 1
    error(await put_config(api, site, doc, None), 428, "if_match_required")
    error(await put_config(api, site, doc, None), 428)
    r = await api.put(f"/api/v1/sites/{site}/config", json=doc, headers={"If-Match": "x"})
    error(r, 400, "invalid_field")
    now = await read_config(api, site)
    assert now["version"] == version + 1 and len(now["services"]) == 148
    # the audit entry names what changed
    entry = (await audit(api, site))[0]
    assert entry["action"] == "config.replace" and entry["actor"] == "admin"
    assert entry["target"] == site
    assert entry["detail"]["services"] == {"added": ["legalisir-uji"], "changed": ["ktp-el"]}
    assert entry["detail"]["counters"] == {"added": ["loket-99"]}


async def test_removed_service_cancels_its_waiting_tickets(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    site = server.new_site()
    r = await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el-cetak"})
    ticket = r.json()["ticket"]
    doc = await read_config(api, site)
    doc["services"] = [s for s in doc["services"] if s["id"] != "ktp-el-cetak"]
    for c in doc["counters"]:
        c["services"] = [s for s in c["services"] if s != "ktp-el-cetak"]
    doc["counters"] = [c for c in doc["counters"] if c["services"]]
    doc["displays"] = [
        {**d, "counters": [c for c in d["counters"] if c in {x["id"] for x in doc["counters"]}]}
        for d in doc["displays"]
    ]
    r = await put_config(api, site, doc, doc["version"])
    assert r.status_code == 200, r.text
    got = (await api.get(f"/api/v1/sites/{site}/tickets/{ticket['id']}")).json()
    assert got["ticket"]["status"] == "cancelled"
    events = (await api.get(f"/api/v1/sites/{site}/events?since=0")).json()["events"]
    types = [e["type"] for e in events]
    assert types[-2:] == ["ticket.cancelled", "site.config_changed"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["services"][12].update(prefix="abc"),
            r'config: services[12] (id "{id}"): prefix: must be 1-2 capital letters',
        ),
        (
            lambda d: d["services"][3].update(agency="nowhere"),
            r"config: services[3] (id \"{id}\"): agency: unknown agency 'nowhere'",
        ),
        (
            lambda d: d["counters"][0].update(services=["no-such"]),
            "config: counters[0] (id \"loket-1\"): services: unknown service 'no-such'",
        ),
        (
            lambda d: d["services"][0].update(hours={"mon": "8-15"}),
            "config: services[0] (id \"ktp-el\"): hours: mon: '8-15' is not a range",
        ),
        (lambda d: d["site"].update(timezone="Mars/Base"), "config: site: timezone: unknown"),
        (lambda d: d["site"].update(holidays=["soon"]), "config: site: holidays: 'soon'"),
        (lambda d: d["site"].update(public_url="ftp://x"), "config: site: public_url: must be"),
        (lambda d: d["site"].update(id="other"), 'config: site: id: must be "{site}"'),
        (lambda d: d["displays"][0].update(colour="red"), "config: displays[0]"),
        (lambda d: d.update(extra=[]), "config: extra: unknown section"),
    ],
)
async def test_config_errors_name_entry_and_field(
    server: LiveServer, api: httpx.AsyncClient, change: Any, message: str
) -> None:
    site = server.new_site()
    doc = await read_config(api, site)
    before = copy.deepcopy(doc)
    change(doc)
    err = error(await put_config(api, site, doc, doc["version"]), 422, "invalid_config")
    ids = {i: s["id"] for i, s in enumerate(before["services"])}
    expected = message.replace(r"\"", '"').format(
        id=ids.get(12 if "[12]" in message else 3), site=site
    )
    assert err["message"].startswith(expected), err["message"]
    assert await read_config(api, site) == before  # nothing changed


async def test_config_bodies_that_are_not_documents(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    site = server.new_site()
    url = f"/api/v1/sites/{site}/config"
    headers = {"If-Match": "1"}
    error(await api.put(url, content=b"{nope", headers=headers), 400, "malformed_json")
    error(await api.put(url, json=[1], headers=headers), 400, "malformed_json")
    error(await api.put(url, json={}, headers=headers), 422, "invalid_config")
    error(await api.put(url, json={"site": 5}, headers=headers), 422, "invalid_config")
    big = b'{"site": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    error(await api.put(url, content=big, headers=headers), 413)
    error(await api.put("/api/v1/sites/nowhere/config", json={}, headers=headers), 404)


async def test_create_site(server: LiveServer, api: httpx.AsyncClient) -> None:
    source = await read_config(api, server.new_site())
    new_id = fresh_site_id("n")
    source["site"]["id"] = new_id
    source["site"]["name"] = "MPP Baru"
    r = await api.post("/api/v1/sites", json=source)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["site"]["id"] == new_id
    sites = (await api.get("/api/v1/sites")).json()["sites"]
    assert {"id": new_id, "name": "MPP Baru"} in sites
    error(await api.post("/api/v1/sites", json=source), 409, "site_exists")
    source["site"]["id"] = "Bad Id"
    error(await api.post("/api/v1/sites", json=source), 422, "invalid_config")
    entry = (await audit(api, new_id))[0]
    assert entry["action"] == "site.create" and entry["target"] == new_id
    assert len(entry["detail"]["services"]["added"]) == 147


async def test_service_open_flag(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    server.user("sup", "rahasia-sup", role="supervisor", site=site)
    login = await api.post(
        "/api/v1/auth/login", json={"username": "sup", "password": "rahasia-sup"}
    )
    sup = bearer(login.json()["token"])
    url = f"/api/v1/sites/{site}/services/ktp-el"
    version = (await read_config(api, site))["version"]
    r = await api.patch(url, json={"open": False}, headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["service"]["open"] is False and r.json()["version"] == version + 1
    error(await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"}), 409)
    # the same flag again changes nothing (no new version, no audit entry)
    r = await api.patch(url, json={"open": False}, headers=sup)
    assert r.json()["version"] == version + 1
    assert (await api.patch(url, json={"open": True})).json()["service"]["open"] is True
    r = await api.post(f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"})
    assert r.status_code == 201
    entries = await audit(api, site)
    assert [(e["action"], e["actor"], e["target"]) for e in entries[:2]] == [
        ("service.open", "admin", "ktp-el"),
        ("service.close", "sup", "ktp-el"),
    ]
    error(await api.patch(url, json={"open": "no"}), 400, "invalid_field")
    error(await api.patch(url, json={}), 400, "invalid_field")
    error(await api.patch(f"/api/v1/sites/{site}/services/nothing", json={"open": True}), 404)


# -- accounts -----------------------------------------------------------------------------


async def test_accounts_created_changed_removed(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    name = fresh_site_id("budi")
    body = {
        "name": name,
        "password": "rahasia-1",
        "role": "officer",
        "site": site,
        "counters": ["loket-1"],
    }
    r = await api.post("/api/v1/users", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["user"] == {k: body[k] for k in ("name", "role", "site", "counters")}
    error(await api.post("/api/v1/users", json=body), 409, "user_exists")
    users = (await api.get("/api/v1/users")).json()["users"]
    assert {"name": name, "role": "officer", "site": site, "counters": ["loket-1"]} in users
    # the officer logs in; a change of counters ends that session
    login = await api.post("/api/v1/auth/login", json={"username": name, "password": "rahasia-1"})
    session = bearer(login.json()["token"])
    r = await api.patch(f"/api/v1/users/{name}", json={"counters": ["loket-2"]})
    assert r.status_code == 200 and r.json()["user"]["counters"] == ["loket-2"]
    async with httpx.AsyncClient(base_url=server.url) as c:
        error(await c.get("/api/v1/auth/me", headers=session), 401)
    # a password reset: the old password no longer logs in
    r = await api.post(f"/api/v1/users/{name}/password", json={"password": "rahasia-2"})
    assert r.status_code == 200
    old = await api.post("/api/v1/auth/login", json={"username": name, "password": "rahasia-1"})
    error(old, 401)
    new = await api.post("/api/v1/auth/login", json={"username": name, "password": "rahasia-2"})
    assert new.status_code == 200
    session = bearer(new.json()["token"])
    r = await api.delete(f"/api/v1/users/{name}")
    assert r.status_code == 200 and r.json() == {"removed": name}
    async with httpx.AsyncClient(base_url=server.url) as c:
        error(await c.get("/api/v1/auth/me", headers=session), 401)
    error(await api.delete(f"/api/v1/users/{name}"), 404)
    entries = [e for e in await audit(api, site) if e["target"] == name]
    assert [e["action"] for e in entries] == [
        "user.remove",
        "user.password",
        "user.change",
        "user.create",
    ]
    assert entries[2]["detail"] == {"counters": [["loket-1"], ["loket-2"]]}
    assert all("rahasia" not in str(e) for e in entries)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"password": "rahasia-1", "role": "officer"}, 400, "name"),
        ({"name": "Budi Baik", "password": "rahasia-1", "role": "officer"}, 400, "name"),
        ({"name": "x", "password": "short", "role": "officer"}, 400, "password"),
        ({"name": "x", "password": "rahasia-1", "role": "boss"}, 400, "role"),
        ({"name": "x", "password": "rahasia-1", "role": "officer", "site": None}, 400, "site"),
        ({"name": "x", "password": "rahasia-1", "role": "officer", "site": 5}, 400, "site"),
        ({"name": "x", "password": "rahasia-1", "role": "officer", "site": "nowhere"}, 422, "site"),
        (
            {"name": "x", "password": "rahasia-1", "role": "officer", "counters": ["loket-404"]},
            422,
            "counters",
        ),
        ({"name": "x", "password": "rahasia-1", "role": "officer", "colour": "red"}, 400, "colour"),
    ],
)
async def test_account_errors_name_their_field(
    server: LiveServer, api: httpx.AsyncClient, body: dict[str, Any], status: int, field: str
) -> None:
    site = server.new_site()
    body = {"site": site, **body} if "site" not in body else body
    err = error(await api.post("/api/v1/users", json=body), status)
    assert err["message"].startswith(f"{field}:"), err


# -- tokens -------------------------------------------------------------------------------


async def test_tokens_created_listed_revoked(server: LiveServer, api: httpx.AsyncClient) -> None:
    site = server.new_site()
    r = await api.post("/api/v1/tokens", json={"role": "kiosk", "site": site, "name": "kiosk-lobi"})
    assert r.status_code == 201, r.text
    made = r.json()
    token, token_id = made["token"], made["id"]
    assert made["role"] == "kiosk" and made["site"] == site and made["last_used_at"] is None
    # used once: the listing shows its last use, never the token
    async with httpx.AsyncClient(base_url=server.url) as kiosk:
        r = await kiosk.post(
            f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"}, headers=bearer(token)
        )
        assert r.status_code == 201
        listed = (await api.get("/api/v1/tokens", params={"site": site})).json()["tokens"]
        assert [t["id"] for t in listed] == [token_id]
        assert listed[0]["last_used_at"] is not None and "token" not in listed[0]
        assert token not in (await api.get("/api/v1/tokens")).text
        r = await api.delete(f"/api/v1/tokens/{token_id}")
        assert r.status_code == 200 and r.json()["revoked"]["name"] == "kiosk-lobi"
        # refused at once by this process (its cache forgot the token)
        r = await kiosk.post(
            f"/api/v1/sites/{site}/tickets", json={"service": "ktp-el"}, headers=bearer(token)
        )
        error(r, 401)
    error(await api.delete(f"/api/v1/tokens/{token_id}"), 404)
    error(await api.delete("/api/v1/tokens/zz"), 404)
    assert (await api.get("/api/v1/tokens", params={"site": site})).json()["tokens"] == []
    entries = await audit(api, site)
    assert [(e["action"], e["target"]) for e in entries[:2]] == [
        ("token.revoke", f"token:{token_id} kiosk-lobi"),
        ("token.create", f"token:{token_id} kiosk-lobi"),
    ]
    assert token not in str(entries)
    # errors name their field
    for body, field in (
        ({"role": "kiosk", "site": site}, "name"),
        ({"role": "kiosk", "site": site, "name": ""}, "name"),
        ({"role": "wizard", "site": site, "name": "x"}, "role"),
        ({"role": "kiosk", "name": "x"}, "site"),
    ):
        err = error(await api.post("/api/v1/tokens", json=body), 400)
        assert err["message"].startswith(f"{field}:"), err
    r = await api.post("/api/v1/tokens", json={"role": "kiosk", "site": "nowhere", "name": "x"})
    error(r, 422, "unknown_site")


async def test_global_accounts_and_tokens_go_to_the_installation_log(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    name = fresh_site_id("eval")
    body = {"name": name, "password": "rahasia-1", "role": "evaluator"}
    assert (await api.post("/api/v1/users", json=body)).status_code == 201
    entry = (await audit(api))[0]
    assert entry["action"] == "user.create" and entry["target"] == name
    assert (await api.delete(f"/api/v1/users/{name}")).status_code == 200
    r = await api.get("/api/v1/audit", params={"limit": "1"})
    assert len(r.json()["entries"]) == 1 and r.json()["entries"][0]["action"] == "user.remove"
    error(await api.get("/api/v1/audit", params={"limit": "0"}), 400, "invalid_field")
    error(await api.get("/api/v1/audit", params={"limit": "x"}), 400, "invalid_field")
    error(await api.get("/api/v1/audit", params={"site": "nowhere"}), 404)


# -- who may do what ----------------------------------------------------------------------


async def test_role_matrix(server: LiveServer) -> None:
    """Admin: everything; a supervisor its own site's config (read), services' open
    flag, officer accounts and audit log; everyone else: 403 (401 without credential)."""
    site, other = server.new_site(), server.new_site()
    server.user(f"sup-{site}", "rahasia-sup", role="supervisor", site=site)
    async with httpx.AsyncClient(base_url=server.url) as browser:  # keeps the cookie
        login = await browser.post(
            "/api/v1/auth/login", json={"username": f"sup-{site}", "password": "rahasia-sup"}
        )
    async with httpx.AsyncClient(base_url=server.url) as c:
        creds = {
            "admin": ADMIN,
            "supervisor": bearer(login.json()["token"]),
            "foreign_supervisor": bearer(server.token("supervisor", other)),
            "officer": bearer(server.token("officer", site, counters=["loket-1"])),
            "kiosk": bearer(server.token("kiosk", site)),
            "display": bearer(server.token("display", site)),
            "evaluator": bearer(server.token("evaluator")),
            "anonymous": {},
        }
        config = (await c.get(f"/api/v1/sites/{site}/config", headers=ADMIN)).json()
        version = config["version"]
        officer_name = fresh_site_id("ofc")
        officer = {
            "name": officer_name,
            "password": "rahasia-1",
            "role": "officer",
            "site": site,
        }

        async def status(method: str, url: str, who: str, **kw: Any) -> int:
            r = await c.request(method, url, headers={**creds[who], **kw.pop("headers", {})}, **kw)
            return r.status_code

        requests: list[tuple[str, str, dict[str, Any], set[str]]] = [
            # (method, url, kwargs, who may): the rest get 403, anonymous 401
            ("GET", f"/api/v1/sites/{site}/config", {}, {"admin", "supervisor"}),
            (
                "PUT",
                f"/api/v1/sites/{site}/config",
                {"json": config, "headers": {"If-Match": "999"}},  # 412 when allowed
                {"admin"},
            ),
            ("POST", "/api/v1/sites", {"json": {}}, {"admin"}),  # 422 when allowed
            (
                "PATCH",
                f"/api/v1/sites/{site}/services/ktp-el",
                {"json": {"open": True}},
                {"admin", "supervisor"},
            ),
            # a supervisor of another site reads its own site's accounts and log
            ("GET", "/api/v1/users", {}, {"admin", "supervisor", "foreign_supervisor"}),
            ("POST", "/api/v1/users", {"json": officer}, {"admin", "supervisor"}),
            ("GET", "/api/v1/tokens", {}, {"admin"}),
            ("POST", "/api/v1/tokens", {"json": {"role": "kiosk"}}, {"admin"}),  # 400
            ("DELETE", "/api/v1/tokens/000000000000", {}, {"admin"}),  # 404 when allowed
            ("GET", f"/api/v1/audit?site={site}", {}, {"admin", "supervisor"}),
            ("GET", "/api/v1/audit", {}, {"admin", "supervisor", "foreign_supervisor"}),
        ]
        for method, url, kw, allowed in requests:
            for who in creds:
                got = await status(method, url, who, **dict(kw))
                if who in allowed:
                    assert got not in (401, 403), (method, url, who, got)
                    if method == "POST" and url == "/api/v1/users":
                        await c.delete(f"/api/v1/users/{officer_name}", headers=ADMIN)
                else:
                    expected = 401 if who == "anonymous" else 403
                    assert got == expected, (method, url, who, got)
        assert (await c.get(f"/api/v1/sites/{site}/config", headers=ADMIN)).json()[
            "version"
        ] == version + 0  # the PATCH changed no flag (already open): no new version
        # supervisor limits: officers of its own site only
        sup = creds["supervisor"]
        for body in (
            {**officer, "role": "supervisor"},
            {**officer, "site": other},
            {**officer, "role": "admin", "site": None},
        ):
            r = await c.post("/api/v1/users", json=body, headers=sup)
            error(r, 403)
        server.user(f"boss-{site}", "rahasia-boss", role="supervisor", site=site)
        error(await c.delete(f"/api/v1/users/boss-{site}", headers=sup), 403)
        r = await c.post(
            f"/api/v1/users/boss-{site}/password", json={"password": "x" * 9}, headers=sup
        )
        error(r, 403)
        assert (await c.post("/api/v1/users", json=officer, headers=sup)).status_code == 201
        r = await c.patch(f"/api/v1/users/{officer_name}", json={"role": "supervisor"}, headers=sup)
        error(r, 403)
        r = await c.patch(
            f"/api/v1/users/{officer_name}", json={"counters": ["loket-2"]}, headers=sup
        )
        assert r.status_code == 200
        listed = (await c.get("/api/v1/users", headers=sup)).json()["users"]
        assert {u["site"] for u in listed} == {site}
        error(await c.get(f"/api/v1/audit?site={other}", headers=sup), 403)
        own = (await c.get("/api/v1/audit", headers=sup)).json()
        assert own["site"] == site and own["entries"][0]["actor"] == f"sup-{site}"
        assert (await c.delete(f"/api/v1/users/{officer_name}", headers=sup)).status_code == 200


async def test_announcements_and_staff_counter_changes_are_audited(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    site = server.new_site()
    r = await api.post(f"/api/v1/sites/{site}/announcements", json={"text": "Istirahat 12.00"})
    assert r.status_code == 201
    assert (await api.post(f"/api/v1/sites/{site}/counters/loket-1/close")).status_code == 200
    officer = bearer(server.token("officer", site, "budi", counters=["loket-2"]))
    r = await api.post(f"/api/v1/sites/{site}/counters/loket-2/pause", headers=officer)
    assert r.status_code == 200
    entries = await audit(api, site)
    assert [(e["action"], e["target"]) for e in entries[:2]] == [
        ("counter.close", "loket-1"),
        ("announcement", site),
    ]
    assert entries[1]["detail"] == {"text": "Istirahat 12.00"}
    assert all(e["actor"] != "budi" for e in entries)  # an officer's own pause: routine


async def test_two_saves_from_the_same_version_one_wins(
    server: LiveServer, api: httpx.AsyncClient
) -> None:
    """Two editors read version N and save at once: exactly one save lands, the other is
    refused with 412 and the version it must read; nothing of the winner is lost."""
    site = server.new_site()
    doc = await read_config(api, site)
    first, second = copy.deepcopy(doc), copy.deepcopy(doc)
    first["site"]["running_text"] = "dari editor pertama"
    second["services"][0]["daily_quota"] = 7
    answers = await asyncio.gather(
        put_config(api, site, first, doc["version"]),
        put_config(api, site, second, doc["version"]),
    )
    assert sorted(r.status_code for r in answers) == [200, 412]
    won = next(r for r in answers if r.status_code == 200).json()
    lost = next(r for r in answers if r.status_code == 412).json()["error"]
    assert lost["version"] == won["version"] == doc["version"] + 1
    stored = await read_config(api, site)
    assert stored == won
