"""The lobby TV page `/display/{site}` (display/tv.py, display/static/tv/), in Chromium.

Calls are made through the HTTP API like an officer would; the page must show them
within a second, queue one announcement per call (in order, once, also after a replay),
and show every configured name as text.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from server import config
from tests.conftest import SCREENSHOTS, LiveServer, fresh_site_id, write_small_site

DOCS_IMG = SCREENSHOTS

HTML_SITE = """
[site]
id = "html"
name = "MPP <script>alert(1)</script> Uji"
timezone = "Asia/Makassar"
announcement = "Nomor antrean {number}, silakan menuju {counter}"
running_text = "<marquee>Teks berjalan</marquee>"

[[agencies]]
id = "dinas"
name = "Dinas <i>Uji</i>"
short_name = "<u>Dinas</u>"

[[services]]
id = "layanan"
agency = "dinas"
name = "<b>X</b> & layanan"
prefix = "A"

[[counters]]
id = "loket-1"
name = "<img src=x onerror=alert(1)>Loket 7"
agency = "dinas"
services = ["layanan"]
"""

SILENT = """async () => {
    await window.loket.voice.ready;
    if (window.loket.voice.context) await window.loket.voice.context.suspend();
    window.loket.announcer.silentRate = 20;
}"""


def client(server: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}
    )


async def issue(api: httpx.AsyncClient, site: str, service: str) -> dict[str, Any]:
    response = await api.post(f"/api/v1/sites/{site}/tickets", json={"service": service})
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


async def next_ticket(api: httpx.AsyncClient, site: str, counter: str) -> dict[str, Any]:
    response = await api.post(f"/api/v1/sites/{site}/counters/{counter}/next")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


async def call(api: httpx.AsyncClient, site: str, service: str, counter: str) -> dict[str, Any]:
    """Issue a ticket for `service` and call the next one at `counter` (that ticket)."""
    issued = await issue(api, site, service)
    ticket = await next_ticket(api, site, counter)
    assert ticket["number"] == issued["number"]
    return ticket


async def open_tv(page: Page, server: Any, site: str, query: str = "") -> int:
    """Open the TV and wait for its first snapshot; returns the snapshot's seq."""
    await page.goto(f"{server.url}/display/{site}{query}")
    body = page.locator("body")
    await expect(body).to_have_attribute("data-seq", re.compile(r"^\d+$"), timeout=5000)
    return int(await body.get_attribute("data-seq") or 0)


async def test_unknown_site_display_or_filter_is_a_friendly_404(server: Any) -> None:
    site = server.new_site()
    async with httpx.AsyncClient(base_url=server.url) as api:
        for path in (
            "/display/no-such-site",
            f"/display/{site}?display=no-such-tv",
            f"/display/{site}?display=kiosk-lobby",  # a kiosk, not a TV
            f"/display/{site}?agency=no-such-agency",
            f"/display/{site}?zone=z",
        ):
            response = await api.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("text/html")
            assert "Halaman tidak ditemukan" in response.text
        response = await api.get(f"/display/{site}?display=tv-lantai-2")
        assert response.status_code == 200
        assert "Layar Antrean</title>" in response.text  # KBBI spelling
        assert 'data-layout="portrait"' in response.text
        assert "bpjs-kesehatan" in response.text


async def test_a_call_shows_in_the_big_call_area_within_a_second(server: Any, page: Page) -> None:
    site = server.new_site()
    await open_tv(page, server, site)
    async with client(server) as api:
        ticket = await call(api, site, "ktp-el", "loket-1")
    await expect(page.locator("#call-number")).to_have_text(ticket["number"], timeout=1000)
    await expect(page.locator("#call-counter")).to_have_text("Loket 1", timeout=1000)
    await expect(page.locator('.tile[data-counter="loket-1"] .tile-ticket')).to_have_text(
        ticket["number"]
    )
    await expect(page.locator(".recent-row").first).to_contain_text(ticket["number"])

    # English is one click away, and remembered.
    await page.click("#lang-toggle")
    await expect(page.locator("#now .panel-title")).to_have_text("Now calling")
    await page.reload()
    await expect(page.locator(".counters .panel-title")).to_have_text("Now serving")
    await expect(page.locator("#lang-toggle")).to_have_text("ID")
    assert await page.get_attribute("html", "lang") == "en"


async def test_calls_are_announced_in_order_exactly_once(server: Any, page: Page) -> None:
    site = server.new_site()
    before = await open_tv(page, server, site)
    # No sound in a test: let the announcer run silently, at 20x the clips' pace.
    await page.evaluate(SILENT)
    async with client(server) as api:
        first = await call(api, site, "ktp-el", "loket-1")
        second = await call(api, site, "ktp-el-cetak", "loket-3")
    expected = [
        f"Nomor antrean {first['number']}, silakan menuju Loket 1",
        f"Nomor antrean {second['number']}, silakan menuju Loket 3",
    ]
    everything = "(a => [...a.spoken, ...a.queue])(window.loket.announcer)"
    # predicates as functions: the pages' CSP forbids eval of plain expressions
    await page.wait_for_function(f"() => {everything}.length >= 2", timeout=2000)
    assert await page.evaluate(everything) == expected
    await page.wait_for_function("() => window.loket.announcer.spoken.length >= 2", timeout=5000)
    await expect(page.locator("body")).to_have_attribute("data-announce-queue", "0")

    # Replay the calls: rewind the stream and drop the socket; nothing is said twice.
    latest = int(await page.locator("body").get_attribute("data-seq") or 0)
    banner_shown = await page.evaluate(
        """before => new Promise(resolve => {
            const observer = new MutationObserver(() => {
                if (document.body.dataset.connection !== "offline") return;
                observer.disconnect();
                resolve(!document.getElementById("offline").hidden);
            });
            observer.observe(document.body, {attributes: true});
            const stream = window.loket.stream;
            stream.seq = before;
            document.body.dataset.seq = String(before);  // back to latest once replayed
            stream.socket.close();
        })""",
        before,
    )
    assert banner_shown
    await expect(page.locator("#offline")).to_be_hidden(timeout=5000)
    await expect(page.locator("body")).to_have_attribute("data-seq", str(latest), timeout=5000)
    assert await page.evaluate("window.loket.announcer.spoken") == expected
    assert await page.evaluate("window.loket.announcer.queue") == []
    await expect(page.locator(".recent-row:not([hidden])")).to_have_count(2)


async def test_names_from_configuration_show_as_text(
    server: Any, page: Page, tmp_path: Path
) -> None:
    config = tmp_path / "html.toml"
    config.write_text(HTML_SITE, encoding="utf-8")
    site = server.new_site(config)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await open_tv(page, server, site)
    async with client(server) as api:
        ticket = await call(api, site, "layanan", "loket-1")
        await issue(api, site, "layanan")
    counter = "<img src=x onerror=alert(1)>Loket 7"
    await expect(page.locator("#call-number")).to_have_text(ticket["number"], timeout=1000)
    await expect(page.locator("#call-counter")).to_have_text(counter)
    await expect(page.locator("#call-service")).to_have_text("<b>X</b> & layanan")
    await expect(page.locator(".tile-name")).to_have_text(counter)
    await expect(page.locator("#site-name")).to_have_text("MPP <script>alert(1)</script> Uji")
    await expect(page.locator("#subtitle")).to_have_text("")
    await expect(page.locator(".waiting-label")).to_have_text("A · <b>X</b> & layanan")
    await expect(page.locator("#ticker-text")).to_have_text("<marquee>Teks berjalan</marquee>")
    assert await page.locator("main b, main img, main i, main u, marquee").count() == 0
    announced = await page.evaluate("(a => [...a.spoken, ...a.queue])(window.loket.announcer)")
    assert announced == [f"Nomor antrean {ticket['number']}, silakan menuju {counter}"]
    assert dialogs == []


async def test_day_reset_announcement_and_new_configuration(
    server: Any, page: Page, tmp_path: Path
) -> None:
    path = write_small_site(tmp_path / "kecil.toml", running_text="Selamat datang")
    site = server.new_site(path)
    await open_tv(page, server, site)
    await page.evaluate(SILENT)
    async with client(server) as api:
        await call(api, site, "umum", "loket-1")
        await issue(api, site, "umum")
        await issue(api, site, "umum")
        await expect(page.locator(".waiting-count")).to_have_text("2")

        # A new service day cancels the waiting tickets: the TV reloads its state.
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        server.run(server.store.rollover(config.load_file(path, site), now=tomorrow))
        await expect(page.locator(".waiting-empty")).to_have_text("Tidak ada antrean")

        text = "Sistem <b>antrean</b> kembali normal"
        response = await api.post(f"/api/v1/sites/{site}/announcements", json={"text": text})
        assert response.status_code == 201, response.text
        await expect(page.locator("#announcement-text")).to_have_text(text)
        await page.wait_for_function(
            "t => window.loket.announcer.spoken.includes(t)", arg=text, timeout=3000
        )

    # A new configuration reloads the page (once the announcer is quiet).
    write_small_site(path, running_text="Teks baru")
    server.run(server.store.load_config(config.load_file(path, site)))
    await expect(page.locator("#ticker-text")).to_have_text("Teks baru", timeout=5000)


TERBILANG = {
    0: "nol",
    1: "satu",
    10: "sepuluh",
    11: "sebelas",
    12: "dua belas",
    19: "sembilan belas",
    20: "dua puluh",
    21: "dua puluh satu",
    99: "sembilan puluh sembilan",
    100: "seratus",
    101: "seratus satu",
    111: "seratus sebelas",
    200: "dua ratus",
    999: "sembilan ratus sembilan puluh sembilan",
    1000: "seribu",
    1001: "seribu satu",
    1234: "seribu dua ratus tiga puluh empat",
    2000: "dua ribu",
    11000: "sebelas ribu",
    100000: "seratus ribu",
    1000000: "satu juta",
}

SPOKEN = {
    ("A012", "Loket 5"): "Nomor antrean, A, dua belas, silakan menuju loket lima",
    ("KT100", "Loket 12"): "Nomor antrean, K T, seratus, silakan menuju loket dua belas",
    ("B001", "Loket Prioritas"): "Nomor antrean, B, satu, silakan menuju loket Prioritas",
    ("C000", "Loket 3"): "Nomor antrean, C, nol, silakan menuju loket tiga",
}


async def test_numbers_and_announcements_read_in_indonesian(server: Any, page: Page) -> None:
    site = server.new_site()
    await open_tv(page, server, site)
    words = await page.evaluate(
        """async cases => {
            const m = await import('/static/display/tv/numbers.js');
            return Object.fromEntries(Object.keys(cases).map(n => [n, m.terbilang(Number(n))]));
        }""",
        {str(n): text for n, text in TERBILANG.items()},
    )
    assert words == {str(n): text for n, text in TERBILANG.items()}
    spoken = await page.evaluate(
        """async cases => {
            const p = await import('/static/display/tv/phrase.js');
            await window.loket.voice.ready;
            const known = window.loket.voice.known;
            return cases.map(([number, counter]) => p.speechText(
                p.spokenSegments(p.DEFAULT_TEMPLATE, {number, counter}, known)));
        }""",
        [list(key) for key in SPOKEN],
    )
    assert spoken == list(SPOKEN.values())
    # The default template is read with the "nomor antrean" clip (KBBI spelling); a site
    # whose own template keeps "antrian" gets the clip that says so.
    first_clips = await page.evaluate(
        """async () => {
            const p = await import('/static/display/tv/phrase.js');
            const known = window.loket.voice.known;
            const values = {number: 'A012', counter: 'Loket 5'};
            return [p.DEFAULT_TEMPLATE, 'Nomor antrian {number}, silakan menuju {counter}']
                .map(t => p.spokenSegments(t, values, known)[0]);
        }"""
    )
    assert first_clips == [{"word": "nomor antrean"}, {"word": "nomor antrian"}]
    # Every word terbilang says for a ticket number has a clip, and every clip decodes.
    missing = await page.evaluate(
        """async () => {
            const m = await import('/static/display/tv/numbers.js');
            const v = window.loket.voice;
            const words = new Set();
            for (let n = 0; n < 2000; n += 1) m.terbilangWords(n).forEach(w => words.add(w));
            ['nomor antrean', 'nomor antrian', 'silakan menuju', 'loket'].forEach(
                w => words.add(w));
            const gone = [...words].filter(w => !v.words.has(w));
            for (const l of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') if (!v.letters.has(l)) gone.push(l);
            if (!v.chime) gone.push('chime');
            return gone;
        }"""
    )
    assert missing == []


async def busy_site(server: Any, site: str | None = None) -> tuple[str, dict[str, Any]]:
    """The demo (or `site`, a copy of it) after a morning's start: nine calls (Loket 2
    last), a counter serving, two paused and four closed, people waiting at every agency."""
    site = site or server.new_site()
    async with client(server) as api:
        doc = (await api.get(f"/api/v1/sites/{site}")).json()
        counters = {c["id"]: c for c in doc["counters"]}
        for number in (1, 3, 5, 11, 25, 33, 40, 26, 2):  # Loket 2 last: the big call
            counter = counters[f"loket-{number}"]
            await call(api, site, counter["services"][0], counter["id"])
        actions = [("loket-5", "start"), ("loket-8", "pause"), ("loket-30", "pause")]
        actions += [(f"loket-{n}", "close") for n in (9, 10, 39, 46)]
        open_services = [s["id"] for s in doc["services"] if s["open"]]
        await asyncio.gather(
            *(api.post(f"/api/v1/sites/{site}/counters/{c}/{action}") for c, action in actions),
            *(
                issue(api, site, service)
                for i, service in enumerate(open_services[::6])
                for _ in range(1 + i % 4)
            ),
        )
    return site, doc


NO_PAGE_OVERFLOW = (
    "() => document.documentElement.scrollWidth <= innerWidth"
    " && document.documentElement.scrollHeight <= innerHeight"
)


async def test_screenshots_landscape_and_portrait(server: Any, page: Page) -> None:
    """Writes docs/img/tv-landscape.png and docs/img/tv-portrait.png after a few calls."""
    site, _ = await busy_site(server)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    for name, size, query, latest in (
        ("tv-landscape.png", (1920, 1080), "", "Loket 2"),
        ("tv-portrait.png", (1080, 1920), "?display=tv-lantai-2", "Loket 26"),
    ):
        await page.set_viewport_size({"width": size[0], "height": size[1]})
        await open_tv(page, server, site, query)
        await expect(page.locator("#call-counter")).to_have_text(latest)
        await expect(page.locator("#sound-button")).to_be_hidden()
        assert await page.evaluate(NO_PAGE_OVERFLOW)
        await page.screenshot(path=DOCS_IMG / name)


# Every element that shows text of its own, visible, with its computed font size; and
# the names whose box is too narrow or too short for them (cut off, or an ellipsis).
TEXT_SIZES = """() => {
    const out = [];
    for (const el of document.body.querySelectorAll("*")) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || !el.getClientRects().length) continue;
        const style = getComputedStyle(el);
        if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        out.push({
            what: (el.id ? "#" + el.id : el.className || el.tagName) + ": " + el.textContent.trim(),
            size: parseFloat(style.fontSize),
        });
    }
    return out;
}"""
CUT_NAMES = """() => [...document.querySelectorAll(
        ".tile-name, .tile-ticket, .recent-number, .recent-counter, .waiting-label,"
        + " #call-number, #call-counter, #site-name, #subtitle, #logo, #offline, #sound-button")]
    .filter(el => el.getClientRects().length)
    .filter(el => el.scrollWidth > el.clientWidth || (
        getComputedStyle(el).overflowY !== "visible"
        && el.scrollHeight > el.clientHeight + parseFloat(getComputedStyle(el).fontSize) / 2))
    .map(el => `${el.id || el.className}: ${el.textContent.trim()}`
        + ` (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`)"""
# Pairs of (band, panel or waiting row) whose boxes intersect.
OVERLAPS = """() => {
    const bands = ["#sound-button", "#announcement", "#offline", "#ikm"]
        .map(q => document.querySelector(q)).filter(el => el && el.getClientRects().length);
    const others = [...document.querySelectorAll(".tv-main .panel, .waiting-row, .media")]
        .filter(el => el.getClientRects().length);
    const out = [];
    for (const band of bands) {
        const a = band.getBoundingClientRect();
        for (const el of others) {
            const b = el.getBoundingClientRect();
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                out.push(band.id + " / " + (el.className || el.tagName));
        }
    }
    return out;
}"""


async def test_text_is_legible_from_afar_on_small_and_large_tvs(server: Any, page: Page) -> None:
    """At 1366x768 and 1920x1080 every text is at least 3 % of the screen's height, no
    name is cut off, only active counters have a tile, and the bands (sound, offline,
    announcement) push the panels instead of covering the waiting counts."""
    site, doc = await busy_site(server)
    async with client(server) as api:
        text = "Layanan Disdukcapil dibuka kembali pukul 13.00 setelah istirahat"
        response = await api.post(f"/api/v1/sites/{site}/announcements", json={"text": text})
        assert response.status_code == 201, response.text
    longest = max((a["short_name"] for a in doc["agencies"]), key=len)
    assert longest == "BPJS Ketenagakerjaan"
    for width, height in ((1366, 768), (1920, 1080)):
        await page.set_viewport_size({"width": width, "height": height})
        await open_tv(page, server, site)
        await expect(page.locator("#call-counter")).to_have_text("Loket 2")
        # Only counters holding a ticket: not the paused, closed or idle ones.
        tiles = page.locator(".tile:not([hidden])")
        await expect(tiles).to_have_count(9)
        shown = await page.locator(".tile").evaluate_all("ts => ts.map(t => t.dataset.counter)")
        assert shown == [f"loket-{n}" for n in (1, 2, 3, 5, 11, 25, 26, 33, 40)]
        # Every band at once: no sound yet, offline, and a supervisor's announcement.
        await page.evaluate(
            """t => {
                document.getElementById("sound-button").hidden = false;
                window.loket.view.setOnline(false);
                window.loket.view.showAnnouncement(t);
            }""",
            text,
        )
        await expect(page.locator("#offline")).to_have_text(
            "! Terputus — mencoba menyambung kembali…"
        )
        minimum = 0.03 * height
        sizes = await page.evaluate(TEXT_SIZES)
        assert len(sizes) > 40
        small = [f"{t['what']} ({t['size']:.1f}px)" for t in sizes if t["size"] < minimum]
        assert small == [], f"below {minimum:.1f}px at {width}x{height}"
        assert await page.evaluate(CUT_NAMES) == []
        # the bands push the panels once the page has laid them out again
        for _ in range(30):
            overlaps = await page.evaluate(OVERLAPS)
            if not overlaps:
                break
            await page.wait_for_timeout(100)
        assert overlaps == []
        assert await page.evaluate(NO_PAGE_OVERFLOW)
        offline = await page.locator("#offline").bounding_box()
        assert offline is not None and offline["width"] >= width - 1
        label = page.locator(".waiting-label", has_text=longest)
        await expect(label).to_have_text(longest)  # whole: wrapped if need be, never "…"
        await expect(page.locator(".waiting-row")).to_have_count(len(doc["agencies"]))
        if os.environ.get("LOKET_SCREENSHOTS") and width == 1366:
            await page.screenshot(path=DOCS_IMG / "tv-1366-bands.png")


async def test_a_list_that_does_not_fit_pages_through(server: Any, page: Page) -> None:
    """Thirty active counters do not fit a 1366x768 TV at a legible size: the panel
    shows them a page at a time ("1/2") and every one comes round."""
    site = server.new_site()
    async with client(server) as api:
        doc = (await api.get(f"/api/v1/sites/{site}")).json()
        counters = [c for c in doc["counters"]][:30]
        for counter in counters:
            await call(api, site, counter["services"][0], counter["id"])
    await open_tv(page, server, site)
    await expect(page.locator(".tile")).to_have_count(30)
    mark = page.locator("#counter-page")
    await expect(mark).to_have_text(re.compile(r"^1/\d$"))
    pages = int((await mark.text_content() or "1/1").split("/")[1])
    seen: set[str] = set()
    for number in range(1, pages + 1):
        await expect(mark).to_have_text(f"{number}/{pages}", timeout=10000)
        visible = page.locator(".tile:not([hidden])")
        seen.update(await visible.evaluate_all("ts => ts.map(t => t.dataset.counter)"))
        assert await page.evaluate(CUT_NAMES) == []
    assert seen == {c["id"] for c in counters}


async def test_same_service_names_say_their_agency(server: Any, page: Page) -> None:
    """Tirta Pakuan and PLN both have "Balik Nama Pelanggan": a TV that shows both says
    which; a TV of one agency needs no more than the name."""
    site = server.new_site()
    await open_tv(page, server, site, "?display=tv-lantai-2")
    async with client(server) as api:
        await call(api, site, "air-balik-nama", "loket-40")
        await expect(page.locator("#call-service")).to_have_text(
            "Balik Nama Pelanggan · Tirta Pakuan"
        )
        await call(api, site, "pln-balik-nama", "loket-43")
        await expect(page.locator("#call-service")).to_have_text("Balik Nama Pelanggan · PLN")
    await open_tv(page, server, site, "?agency=pln")
    await expect(page.locator("#call-service")).to_have_text("Balik Nama Pelanggan")


async def test_a_transferred_ticket_leaves_the_last_calls(server: Any, page: Page) -> None:
    site = server.new_site()
    await open_tv(page, server, site)
    async with client(server) as api:
        first = await call(api, site, "ktp-el", "loket-1")
        second = await call(api, site, "ktp-el", "loket-2")
        await expect(page.locator("#call-number")).to_have_text(second["number"])
        response = await api.post(
            f"/api/v1/sites/{site}/counters/loket-2/transfer", json={"service": "ikd"}
        )
        assert response.status_code == 200, response.text
    rows = page.locator(".recent-row:not([hidden])")
    await expect(rows).to_have_count(1)
    await expect(rows).to_have_text(re.compile(f"^{first['number']}\\s*Loket 1$"))
    await expect(page.locator("#call-number")).to_have_text(first["number"])
    await expect(page.locator('.tile[data-counter="loket-2"]')).to_have_count(0)
    # A TV opened afterwards does not list it either (the snapshot's recent calls).
    await open_tv(page, server, site)
    await expect(page.locator(".recent-row:not([hidden])")).to_have_count(1)
    assert second["number"] not in (await page.locator("#recent-list").text_content() or "")


IKM_ANSWERS = {
    "persyaratan": 4,
    "prosedur": 3,
    "waktu": 3,
    "biaya": 4,
    "produk": 3,
    "kompetensi": 3,
    "perilaku": 4,
    "sarana": 3,
    "pengaduan": 3,
}


def ikm_text(ikm: dict[str, Any]) -> str:
    """What the TV shows for the API's answer: Indonesian decimals (a comma)."""
    score = f"{ikm['score']:.2f}".replace(".", ",")
    return f"IKM bulan ini: {score} ({ikm['category']}, {ikm['label']})"


async def test_tv_publishes_this_months_ikm(server: Any, page: Page) -> None:
    site = server.new_site()
    async with client(server) as api:
        # No complete survey this month yet: the TV says so.
        await open_tv(page, server, site, "?ikm=1")
        badge = page.locator("#ikm")
        await expect(badge).to_have_text("IKM bulan ini: belum ada data")

        # A served visitor answers all nine elements; the TV follows the ticket.rated event.
        ticket = await call(api, site, "ktp-el", "loket-1")
        finished = await api.post(f"/api/v1/sites/{site}/counters/loket-1/finish")
        assert finished.status_code == 200, finished.text
        rated = await api.post(
            f"/api/v1/sites/{site}/tickets/{ticket['id']}/rating",
            json={"score": 4, "answers": IKM_ANSWERS},
        )
        assert rated.status_code == 201, rated.text
        ikm = (await api.get(f"/api/v1/sites/{site}/ikm")).json()
        assert ikm["n"] == 1 and ikm["score"] == 83.33, ikm
        await expect(badge).to_have_text(ikm_text(ikm), timeout=10000)
        assert ikm_text(ikm) == "IKM bulan ini: 83,33 (B, Baik)"

        # In English, with English decimals and category.
        await page.click("#lang-toggle")
        await expect(badge).to_have_text("IKM this month: 83.33 (B, Good)")
        await page.click("#lang-toggle")

        # A display with show_ikm = true publishes it; ?ikm=0 and other displays do not.
        await page.set_viewport_size({"width": 1920, "height": 1080})
        await open_tv(page, server, site, "?display=tv-lobby")
        await expect(badge).to_have_text(ikm_text(ikm))
        # In the header's flow: it covers no call, counter tile or waiting count.
        overlaps = await page.evaluate(
            """() => {
                const box = document.getElementById("ikm").getBoundingClientRect();
                const hit = (el) => {
                    const r = el.getBoundingClientRect();
                    return r.left < box.right && box.left < r.right
                        && r.top < box.bottom && box.top < r.bottom;
                };
                return [...document.querySelectorAll(".tv-main .panel")].filter(hit).length;
            }"""
        )
        assert overlaps == 0
        if os.environ.get("LOKET_SCREENSHOTS"):
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=DOCS_IMG / "tv-ikm.png")
        for query in ("?display=tv-lobby&ikm=0", "?display=tv-lantai-2", ""):
            await open_tv(page, server, site, query)
            await expect(badge).to_have_count(0)

        # A portrait TV has room for it too: nothing overflows.
        await page.set_viewport_size({"width": 1080, "height": 1920})
        await open_tv(page, server, site, "?display=tv-lantai-2&ikm=1")
        await expect(badge).to_have_text(ikm_text(ikm))
        assert await page.evaluate(
            "() => document.documentElement.scrollWidth <= innerWidth"
            " && document.documentElement.scrollHeight <= innerHeight"
        )
        if os.environ.get("LOKET_SCREENSHOTS"):
            await page.screenshot(path=DOCS_IMG / "tv-ikm-portrait.png")


# -- the media zone ------------------------------------------------------------------


def tiny_png(rgb: tuple[int, int, int] = (0, 120, 200), size: int = 16) -> bytes:
    """A valid PNG of one colour, made here (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


# A short WebM (VP8) recorded from a canvas by the browser itself, as base64.
RECORD_WEBM = """async ms => {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 36;
    const g = canvas.getContext("2d");
    const stream = canvas.captureStream(15);
    const recorder = new MediaRecorder(stream, {mimeType: "video/webm;codecs=vp8"});
    const parts = [];
    recorder.ondataavailable = e => parts.push(e.data);
    let frame = 0;
    const timer = setInterval(() => {
        g.fillStyle = frame++ % 2 ? "#c00" : "#0c0";
        g.fillRect(0, 0, 64, 36);
    }, 60);
    const done = new Promise(resolve => (recorder.onstop = resolve));
    recorder.start();
    await new Promise(resolve => setTimeout(resolve, ms));
    recorder.stop();
    await done;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(parts, {type: "video/webm"}).arrayBuffer());
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
}"""


def media_site(path: Path, media: list[str], seconds: int = 2, volume: int = 0) -> Path:
    """The small site with a TV display `tv-media` that plays `media`."""
    import tomli_w

    write_small_site(path)
    text = path.read_text(encoding="utf-8")
    text += tomli_w.dumps(
        {
            "displays": [
                {
                    "id": "tv-media",
                    "name": "TV Lobby",
                    "kind": "tv",
                    "media": media,
                    "media_seconds": seconds,
                    "media_volume": volume,
                }
            ]
        }
    )
    path.write_text(text, encoding="utf-8")
    return path


async def test_media_files_are_served_read_only_and_safely(redis_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    live = LiveServer(redis_url, data_dir=data)
    live.start()
    try:
        site = live.new_site(media_site(tmp_path / "m.toml", ["promo.png", "bersama.png"]))
        folder = data / "media" / site
        folder.mkdir(parents=True)
        png = tiny_png()
        (folder / "promo.png").write_bytes(png)
        (folder / "lain.png").write_bytes(png)  # on the disk, listed by no display
        (data / "media" / "bersama.png").write_bytes(tiny_png((200, 0, 0)))  # shared folder
        (data / "rahasia.png").write_bytes(b"secret")  # outside the media folder
        async with httpx.AsyncClient(base_url=live.url) as api:
            ok = await api.get(f"/media/{site}/promo.png")
            assert ok.status_code == 200
            assert ok.headers["content-type"] == "image/png"
            assert ok.content == png
            shared = await api.get(f"/media/{site}/bersama.png")
            assert shared.status_code == 200 and shared.content == tiny_png((200, 0, 0))
            for path in (
                f"/media/{site}/lain.png",
                f"/media/{site}/..%2Frahasia.png",
                f"/media/{site}/%2E%2E%2F%2E%2E%2Frahasia.png",
                f"/media/{site}/..%5Crahasia.png",
                f"/media/{site}/.hidden.png",
                f"/media/{site}/promo.png%00.txt",
                f"/media/{site}/m.toml",
                "/media/no-such-site/promo.png",
            ):
                response = await api.get(path)
                assert response.status_code == 404, path
                assert b"secret" not in response.content
            assert (await api.post(f"/media/{site}/promo.png")).status_code == 405
        # Raw dot segments, as a client that does not normalise them would send them.
        for raw in (f"/media/{site}/../rahasia.png", f"/media/{site}/../../rahasia.png"):
            reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
            writer.write(f"GET {raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 404"), (raw, answer[:80])
            assert b"secret" not in answer
    finally:
        live.stop()


async def test_media_zone_plays_in_turn_beside_the_calls_and_ducks_for_calls(
    redis_url: str, tmp_path: Path, page: Page
) -> None:
    await page.goto("about:blank")
    webm = base64.b64decode(await page.evaluate(RECORD_WEBM, 2500))
    assert webm[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    data = tmp_path / "data"
    live = LiveServer(redis_url, data_dir=data)
    live.start()
    try:
        path = media_site(tmp_path / "m.toml", ["promo.png", "klip.webm"], seconds=2, volume=50)
        site = live.new_site(path)
        folder = data / "media" / site
        folder.mkdir(parents=True)
        (folder / "promo.png").write_bytes(tiny_png())
        (folder / "klip.webm").write_bytes(webm)

        await open_tv(page, live, site, "?display=tv-media")
        zone = page.locator("#media")
        await expect(zone).to_be_visible()
        # In turn, and round again: the image, the video (to its end), the image.
        await expect(zone).to_have_attribute("data-current", "promo.png")
        await expect(zone).to_have_attribute("data-kind", "image")
        await expect(page.locator("#media img")).to_be_visible()
        await expect(zone).to_have_attribute("data-current", "klip.webm", timeout=5000)
        await expect(page.locator("#media video")).to_be_visible()
        await page.wait_for_function("() => window.loket.media.video.currentTime > 0", timeout=5000)
        await expect(zone).to_have_attribute("data-current", "promo.png", timeout=8000)
        await expect(zone).to_have_attribute("data-current", "klip.webm", timeout=5000)

        # Beside the calls: it covers no panel, the call stays the biggest text, and every
        # text is still legible.
        assert await page.evaluate(OVERLAPS) == []
        covered = await page.evaluate(
            """() => {
                const m = document.getElementById("media").getBoundingClientRect();
                return [...document.querySelectorAll(".tv-main .panel")].filter(el => {
                    const r = el.getBoundingClientRect();
                    return r.left < m.right && m.left < r.right
                        && r.top < m.bottom && m.top < r.bottom;
                }).length;
            }"""
        )
        assert covered == 0
        sizes = await page.evaluate(TEXT_SIZES)
        assert min(t["size"] for t in sizes) >= 0.03 * 768
        biggest = max(sizes, key=lambda t: t["size"])
        assert biggest["what"].startswith("#call-number")

        # The video has its sound (volume 50) until a number is announced: then it is
        # muted, and it gets its sound back when the announcer is done.
        assert not await page.evaluate("() => window.loket.media.video.muted")
        await page.evaluate(SILENT)
        await page.evaluate("() => { window.loket.announcer.silentRate = 2; }")
        async with client(live) as api:
            ticket = await call(api, site, "umum", "loket-1")
        await page.wait_for_function(
            "() => window.loket.announcer.queue.length > 0 && window.loket.media.video.muted",
            timeout=3000,
        )
        assert await zone.get_attribute("data-muted") == "true"
        # The call's panel is bigger than the media zone.
        await expect(page.locator("#call-number")).to_have_text(ticket["number"])
        now = await page.locator("#now").bounding_box()
        media = await zone.bounding_box()
        assert now and media and now["width"] * now["height"] > media["width"] * media["height"]
        await page.wait_for_function(
            "() => window.loket.announcer.queue.length === 0", timeout=10000
        )
        assert await page.evaluate("() => window.loket.media.video.muted") is False
        assert await page.evaluate("() => window.loket.announcer.spoken") == [
            f"Nomor antrean {ticket['number']}, silakan menuju Loket 1"
        ]
    finally:
        live.stop()


# A promotional slide drawn by the browser (a PNG), for the documentation's screenshot.
DRAW_SLIDE = """() => {
    const c = document.createElement("canvas");
    c.width = 1280;
    c.height = 720;
    const g = c.getContext("2d");
    const grad = g.createLinearGradient(0, 0, 1280, 720);
    grad.addColorStop(0, "#0b5394");
    grad.addColorStop(1, "#38761d");
    g.fillStyle = grad;
    g.fillRect(0, 0, 1280, 720);
    g.fillStyle = "#fff";
    g.textAlign = "center";
    g.font = "bold 92px sans-serif";
    g.fillText("Cetak KTP-el", 640, 280);
    g.font = "bold 92px sans-serif";
    g.fillText("langsung jadi", 640, 390);
    g.font = "56px sans-serif";
    g.fillText("Gratis, di Loket Disdukcapil", 640, 520);
    return c.toDataURL("image/png").split(",")[1];
}"""


async def test_a_busy_site_with_a_media_zone_stays_legible(
    redis_url: str, tmp_path: Path, page: Page
) -> None:
    """The demo with a media display at 1366x768: the zone takes the right column's top,
    every text stays at 3 % of the height and nothing is cut off. Writes
    docs/img/tv-media.png (at 1920x1080)."""
    await page.goto("about:blank")
    slide = base64.b64decode(await page.evaluate(DRAW_SLIDE))
    data = tmp_path / "data"
    live = LiveServer(redis_url, data_dir=data)
    live.start()
    try:
        demo = config.load_demo(fresh_site_id("m"))
        tv = config.Display(
            id="tv-media", name="TV Lobby Utama", media=("ktp-el.png",), media_seconds=10
        )
        site = replace(demo, displays=(*demo.displays, tv))
        live.run(live.store.load_config(site))
        (data / "media").mkdir(parents=True)
        (data / "media" / "ktp-el.png").write_bytes(slide)
        await busy_site(live, site.id)
        for width, height in ((1366, 768), (1920, 1080)):
            await page.set_viewport_size({"width": width, "height": height})
            await open_tv(page, live, site.id, "?display=tv-media")
            await expect(page.locator("#call-counter")).to_have_text("Loket 2")
            await expect(page.locator("#media")).to_have_attribute("data-current", "ktp-el.png")
            await page.wait_for_function(
                "() => document.querySelector('#media img').naturalWidth > 0"
            )
            sizes = await page.evaluate(TEXT_SIZES)
            small = [t["what"] for t in sizes if t["size"] < 0.03 * height]
            assert small == [], f"{width}x{height}"
            assert await page.evaluate(CUT_NAMES) == []
            assert await page.evaluate(OVERLAPS) == []
            assert await page.evaluate(NO_PAGE_OVERFLOW)
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=DOCS_IMG / "tv-media.png")
    finally:
        live.stop()
