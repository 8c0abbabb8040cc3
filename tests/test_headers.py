"""Security headers on pages, API answers and static files (spec section 9)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer


def directives(csp: str) -> dict[str, set[str]]:
    parts = (d.split() for d in csp.split(";") if d.strip())
    return {p[0]: set(p[1:]) for p in parts}


def assert_secure(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = directives(r.headers["content-security-policy"])
    assert csp["default-src"] == {"'self'"}
    assert csp["script-src"] == {"'self'"}  # no 'unsafe-inline', no 'unsafe-eval'
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["frame-ancestors"] == {"'none'"}
    assert csp["base-uri"] == {"'none'"}
    assert csp["connect-src"] >= {"'self'", "ws:", "wss:"}
    assert csp["media-src"] >= {"'self'", "blob:"}


@pytest.fixture
def site(server: LiveServer) -> str:
    return server.new_site()


def test_pages_send_security_headers(server: LiveServer, site: str) -> None:
    kiosk = server.token("kiosk", site)
    ticket = httpx.post(
        f"{server.url}/api/v1/sites/{site}/tickets",
        json={"service": "ktp-el"},
        headers={"Authorization": f"Bearer {kiosk}"},
    ).json()["ticket"]
    for path in (f"/display/{site}", f"/t/{site}/{ticket['id']}"):
        r = httpx.get(server.url + path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert_secure(r)


def test_api_answers_and_errors_send_them(server: LiveServer, site: str) -> None:
    for path, status in ((f"/api/v1/sites/{site}/state", 200), ("/api/v1/sites/nope", 404)):
        r = httpx.get(server.url + path)
        assert r.status_code == status
        assert_secure(r)


def test_static_files_send_them(server: LiveServer) -> None:
    r = httpx.get(f"{server.url}/static/display/common/api.js")
    assert r.status_code == 200
    assert_secure(r)
