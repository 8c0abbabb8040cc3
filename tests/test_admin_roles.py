"""Who may call each administration endpoint (docs/admin.md, "Who may do what"): every
endpoint × every kind of caller, with the exact status it answers.

The requests are valid, so what is tested is authorization: an allowed caller gets
200/201, a refused one 403, a caller without a credential 401. A few rows send an
allowed caller something the server must refuse on content (a taken id, an unknown
entry, a stale version): those show that the refusal on content comes after the check
of who is asking (a foreign supervisor or a kiosk learns 403, not whether the entry
exists). HTTP only, one live server, two small sites made once for the module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from tests.conftest import ADMIN_TOKEN, LiveServer, fresh_site_id

ROLES = (
    "admin",
    "supervisor",  # of the site in the address
    "foreign_supervisor",  # of another site
    "officer",
    "kiosk",
    "display",
    "evaluator",
    "anonymous",
)

# The expected status of each endpoint for each caller, in the order of ROLES.
#                                        adm  spv  spv2 off  kio  dis  eva  anon
MATRIX: dict[str, tuple[int, ...]] = {
    # the site's configuration
    "GET config":                         (200, 200, 403, 403, 403, 403, 403, 401),
    "PUT config":                         (200, 403, 403, 403, 403, 403, 403, 401),
    "POST sites":                         (201, 403, 403, 403, 403, 403, 403, 401),
    "PATCH service open":                 (200, 200, 403, 403, 403, 403, 403, 401),
    # accounts: a supervisor manages its own site's officers, reads its own site's list
    "GET users":                          (200, 200, 200, 403, 403, 403, 403, 401),
    "POST users (officer)":               (201, 201, 403, 403, 403, 403, 403, 401),
    "POST users (supervisor)":            (201, 403, 403, 403, 403, 403, 403, 401),
    "POST users (admin)":                 (201, 403, 403, 403, 403, 403, 403, 401),
    "PATCH user (officer)":               (200, 200, 403, 403, 403, 403, 403, 401),
    "PATCH user (officer to supervisor)": (200, 403, 403, 403, 403, 403, 403, 401),
    "PATCH user (supervisor)":            (200, 403, 403, 403, 403, 403, 403, 401),
    "DELETE user (officer)":              (200, 200, 403, 403, 403, 403, 403, 401),
    "DELETE user (supervisor)":           (200, 403, 403, 403, 403, 403, 403, 401),
    "POST password (officer)":            (200, 200, 403, 403, 403, 403, 403, 401),
    "POST password (supervisor)":         (200, 403, 403, 403, 403, 403, 403, 401),
    # device tokens: administrators only
    "GET tokens":                         (200, 403, 403, 403, 403, 403, 403, 401),
    "POST tokens":                        (201, 403, 403, 403, 403, 403, 403, 401),
    "DELETE token":                       (200, 403, 403, 403, 403, 403, 403, 401),
    # the audit log: a site's (admin, its supervisor); without ?site the caller's own
    "GET audit (site)":                   (200, 200, 403, 403, 403, 403, 403, 401),
    "GET audit (own)":                    (200, 200, 200, 403, 403, 403, 403, 401),
    # authorized, refused on content: only after the check of who asks
    "GET config (unknown site)":          (404, 403, 403, 403, 403, 403, 403, 401),
    "PUT config (stale version)":         (412, 403, 403, 403, 403, 403, 403, 401),
    "POST sites (id taken)":              (409, 403, 403, 403, 403, 403, 403, 401),
    "PATCH service (unknown)":            (404, 404, 403, 403, 403, 403, 403, 401),
    "POST users (name taken)":            (409, 409, 403, 403, 403, 403, 403, 401),
    "POST users (unknown counter)":       (422, 422, 403, 403, 403, 403, 403, 401),
    "DELETE token (unknown)":             (404, 403, 403, 403, 403, 403, 403, 401),
    "GET audit (unknown site)":           (404, 403, 403, 403, 403, 403, 403, 401),
    "PATCH user (unknown)":               (404, 404, 404, 403, 403, 403, 403, 401),
    "DELETE user (unknown)":              (404, 404, 404, 403, 403, 403, 403, 401),
    "POST password (unknown)":            (404, 404, 404, 403, 403, 403, 403, 401),
}  # fmt: skip

# Cells where the server answers otherwise today (docs/admin.md: "Officers, kiosks,
# displays and evaluators get 403 on all of these"). Strict: fixing it turns them red.
# An account's name is looked up before the caller is checked (server/admin.py
# change_user, reset_password, remove_user), so any credential, a kiosk's too, tells an
# existing account (403) from a missing one (404).
KNOWN: dict[tuple[str, str], str] = {}  # known refusals in the wrong order (none left)


def _small_site(path: Path) -> Path:
    doc = {
        "site": {"id": "roles", "name": "MPP Uji Peran", "timezone": "Asia/Jakarta"},
        "agencies": [{"id": "dinas", "name": "Dinas Uji", "short_name": "Dinas"}],
        "services": [
            {"id": "umum", "agency": "dinas", "name": "Layanan Umum", "prefix": "U"},
            {"id": "khusus", "agency": "dinas", "name": "Layanan Khusus", "prefix": "K"},
        ],
        "counters": [
            {"id": "loket-1", "name": "Loket 1", "agency": "dinas", "services": ["umum"]},
            {"id": "loket-2", "name": "Loket 2", "agency": "dinas", "services": ["khusus"]},
        ],
    }
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


Request = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    server: LiveServer
    site: str
    other: str
    creds: dict[str, dict[str, str]]
    admin: httpx.Client  # the admin token's client, to prepare requests
    client: httpx.Client  # the caller's: no credential of its own, cookies cleared
    officer_name: str  # an officer account of `site`, changed over and over
    supervisor_name: str  # a supervisor account of `site`, likewise
    spares: dict[str, str] = field(default_factory=dict)

    def call(self, who: str, request: Request) -> httpx.Response:
        method, path, kwargs = request
        headers = {**kwargs.get("headers", {}), **self.creds[who]}
        rest = {k: v for k, v in kwargs.items() if k != "headers"}
        self.client.cookies.clear()
        response = self.client.request(method, path, headers=headers, **rest)
        if response.is_success:
            self.spares.clear()  # a removed or changed account is no spare any more
        return response

    def config(self, site: str | None = None) -> dict[str, Any]:
        r = self.admin.get(f"/api/v1/sites/{site or self.site}/config")
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    def account(self, role: str) -> str:
        """An account of `site` for a request that removes or changes it: the same one
        until a request succeeds (argon2 makes accounts slow to create)."""
        if role not in self.spares:
            self.spares[role] = fresh_site_id(f"x-{role}-")
            self.server.user(self.spares[role], "rahasia-123", role=role, site=self.site)
        return self.spares[role]

    def token_id(self) -> str:
        """A fresh kiosk token of `site` (for a request that revokes it)."""
        r = self.admin.post(
            "/api/v1/tokens", json={"role": "kiosk", "site": self.site, "name": "kios-uji"}
        )
        assert r.status_code == 201, r.text
        token_id: str = r.json()["id"]
        return token_id


@pytest.fixture(scope="module")
def world(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = _small_site(tmp_path_factory.mktemp("roles") / "site.toml")
    site, other = server.new_site(path), server.new_site(path)
    creds = {
        "admin": bearer(ADMIN_TOKEN),
        "supervisor": bearer(server.token("supervisor", site, name="spv-sini")),
        "foreign_supervisor": bearer(server.token("supervisor", other, name="spv-lain")),
        "officer": bearer(server.token("officer", site, name="ptg", counters=["loket-1"])),
        "kiosk": bearer(server.token("kiosk", site, name="kios")),
        "display": bearer(server.token("display", site, name="tv")),
        "evaluator": bearer(server.token("evaluator", name="evaluator")),
        "anonymous": {},
    }
    officer_name, supervisor_name = fresh_site_id("ptg-"), fresh_site_id("spv-")
    server.user(officer_name, "rahasia-123", role="officer", site=site, counters=["loket-1"])
    server.user(supervisor_name, "rahasia-123", role="supervisor", site=site)
    with (
        httpx.Client(base_url=server.url, headers=creds["admin"]) as admin,
        httpx.Client(base_url=server.url) as client,
    ):
        yield World(server, site, other, creds, admin, client, officer_name, supervisor_name)


def _put_config(w: World) -> Request:
    doc = w.config()
    doc["site"]["running_text"] = "Diubah oleh uji peran"
    return (
        "PUT",
        f"/api/v1/sites/{w.site}/config",
        {
            "json": doc,
            "headers": {"If-Match": str(doc["version"])},
        },
    )


def _stale_config(w: World) -> Request:
    doc = w.config()
    return (
        "PUT",
        f"/api/v1/sites/{w.site}/config",
        {
            "json": doc,
            "headers": {"If-Match": str(doc["version"] + 1000)},
        },
    )


def _toggle_service(w: World) -> Request:
    """Closes an open service, opens a closed one: each allowed call changes the flag."""
    service = next(s for s in w.config()["services"] if s["id"] == "khusus")
    flag = not service.get("open", True)
    return "PATCH", f"/api/v1/sites/{w.site}/services/khusus", {"json": {"open": flag}}


def _new_site(w: World, site_id: str | None = None) -> Request:
    doc = w.config()
    doc["site"]["id"] = site_id or fresh_site_id("baru")
    return "POST", "/api/v1/sites", {"json": doc}


def _new_user(w: World, role: str, **extra: Any) -> Request:
    body: dict[str, Any] = {"name": fresh_site_id(f"baru-{role}-"), "password": "rahasia-123"}
    body |= {"role": role} if role == "admin" else {"role": role, "site": w.site}
    return "POST", "/api/v1/users", {"json": body | extra}


# The request of each row, built afresh for every caller (valid at that moment).
REQUESTS: dict[str, Callable[[World], Request]] = {
    "GET config": lambda w: ("GET", f"/api/v1/sites/{w.site}/config", {}),
    "PUT config": _put_config,
    "POST sites": _new_site,
    "PATCH service open": _toggle_service,
    "GET users": lambda w: ("GET", "/api/v1/users", {}),
    "POST users (officer)": lambda w: _new_user(w, "officer", counters=["loket-2"]),
    "POST users (supervisor)": lambda w: _new_user(w, "supervisor"),
    "POST users (admin)": lambda w: _new_user(w, "admin"),
    "PATCH user (officer)": lambda w: (
        "PATCH",
        f"/api/v1/users/{w.officer_name}",
        {"json": {"counters": ["loket-1", "loket-2"]}},
    ),
    "PATCH user (officer to supervisor)": lambda w: (
        "PATCH",
        f"/api/v1/users/{w.account('officer')}",
        {"json": {"role": "supervisor", "counters": []}},
    ),
    "PATCH user (supervisor)": lambda w: (
        "PATCH",
        f"/api/v1/users/{w.supervisor_name}",
        {"json": {"site": w.site}},
    ),
    "DELETE user (officer)": lambda w: ("DELETE", f"/api/v1/users/{w.account('officer')}", {}),
    "DELETE user (supervisor)": lambda w: (
        "DELETE",
        f"/api/v1/users/{w.account('supervisor')}",
        {},
    ),
    "POST password (officer)": lambda w: (
        "POST",
        f"/api/v1/users/{w.officer_name}/password",
        {"json": {"password": "sandi-baru-123"}},
    ),
    "POST password (supervisor)": lambda w: (
        "POST",
        f"/api/v1/users/{w.supervisor_name}/password",
        {"json": {"password": "sandi-baru-123"}},
    ),
    "GET tokens": lambda w: ("GET", f"/api/v1/tokens?site={w.site}", {}),
    "POST tokens": lambda w: (
        "POST",
        "/api/v1/tokens",
        {"json": {"role": "display", "site": w.site, "name": "TV baru"}},
    ),
    "DELETE token": lambda w: ("DELETE", f"/api/v1/tokens/{w.token_id()}", {}),
    "GET audit (site)": lambda w: ("GET", f"/api/v1/audit?site={w.site}", {}),
    "GET audit (own)": lambda w: ("GET", "/api/v1/audit", {}),
    "GET config (unknown site)": lambda w: ("GET", "/api/v1/sites/tidak-ada/config", {}),
    "PUT config (stale version)": _stale_config,
    "POST sites (id taken)": lambda w: _new_site(w, w.other),
    "PATCH service (unknown)": lambda w: (
        "PATCH",
        f"/api/v1/sites/{w.site}/services/tidak-ada",
        {"json": {"open": False}},
    ),
    "POST users (name taken)": lambda w: _new_user(w, "officer", name=w.officer_name),
    "POST users (unknown counter)": lambda w: _new_user(w, "officer", counters=["loket-404"]),
    "DELETE token (unknown)": lambda w: ("DELETE", "/api/v1/tokens/000000000000", {}),
    "GET audit (unknown site)": lambda w: ("GET", "/api/v1/audit?site=tidak-ada", {}),
    "PATCH user (unknown)": lambda w: (
        "PATCH",
        "/api/v1/users/tidak-ada",
        {"json": {"counters": ["loket-1"]}},
    ),
    "DELETE user (unknown)": lambda w: ("DELETE", "/api/v1/users/tidak-ada", {}),
    "POST password (unknown)": lambda w: (
        "POST",
        "/api/v1/users/tidak-ada/password",
        {"json": {"password": "sandi-baru-123"}},
    ),
}


def _cases() -> Iterator[Any]:
    for endpoint, statuses in MATRIX.items():
        for who, status in zip(ROLES, statuses, strict=True):
            marks = []
            if (endpoint, who) in KNOWN:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[endpoint, who]))
            yield pytest.param(endpoint, who, status, id=f"{endpoint}-{who}", marks=marks)


def test_the_matrix_covers_every_endpoint() -> None:
    assert set(MATRIX) == set(REQUESTS)
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize(("endpoint", "who", "status"), list(_cases()))
def test_role_matrix(world: World, endpoint: str, who: str, status: int) -> None:
    request = REQUESTS[endpoint](world)
    r = world.call(who, request)
    assert r.status_code == status, (*request[:2], who, r.text)
    if status >= 400:
        assert "error" in r.json(), r.text
    if status == 401:
        assert r.json()["error"]["code"] == "unauthorized"
    if status == 403:
        assert r.json()["error"]["code"] in ("forbidden", "not_your_account"), r.text


def test_a_refused_caller_changes_nothing(world: World) -> None:
    """A 403 writes nothing: the configuration, an account and a token are as they were
    after every refused caller has tried to change them."""
    config = world.config()
    world.spares.clear()
    officer = world.account("officer")
    token_id = world.token_id()
    attempts: list[Request] = [
        _put_config(world),
        ("PATCH", f"/api/v1/sites/{world.site}/services/umum", {"json": {"open": False}}),
        ("PATCH", f"/api/v1/users/{officer}", {"json": {"counters": ["loket-2"]}}),
        ("POST", f"/api/v1/users/{officer}/password", {"json": {"password": "x" * 12}}),
        ("DELETE", f"/api/v1/users/{officer}", {}),
        ("DELETE", f"/api/v1/tokens/{token_id}", {}),
    ]
    for who in ("foreign_supervisor", "officer", "kiosk", "display", "evaluator"):
        for request in attempts:
            r = world.call(who, request)
            assert r.status_code == 403, (request[:2], who, r.text)
    assert world.config() == config
    users = world.admin.get("/api/v1/users").json()["users"]
    assert {"name": officer, "role": "officer", "site": world.site, "counters": []} in users
    tokens = world.admin.get(f"/api/v1/tokens?site={world.site}").json()["tokens"]
    assert token_id in {t["id"] for t in tokens}
    login = world.client.post(
        "/api/v1/auth/login", json={"username": officer, "password": "rahasia-123"}
    )
    assert login.status_code == 200, login.text  # the password is the old one


def test_supervisors_list_only_their_own_sites_accounts(world: World) -> None:
    """GET /users answers every caller it allows with 200, but not the same list."""
    for who, site in (("supervisor", world.site), ("foreign_supervisor", world.other)):
        r = world.call(who, ("GET", "/api/v1/users", {}))
        assert r.status_code == 200, r.text
        assert {u["site"] for u in r.json()["users"]} <= {site}
        assert all(u["role"] != "admin" for u in r.json()["users"])
    everyone = world.admin.get("/api/v1/users").json()["users"]
    assert {world.site} < {u["site"] for u in everyone}
