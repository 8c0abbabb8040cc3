// The landing page, `/`: every site of the installation and, per site, its pages by
// role (TV, kiosk, counter, monitor, reports, evaluation, admin) with one line on how
// each is used. Reads only public GET /api/v1/sites (and each site's document for the
// names of its TVs, when there are few sites).

import { api } from "/static/display/common/api.js";
import { errorText, extend, lang, setLang, t, translatePage } from "./strings.js";

extend({
  id: {
    landing_tagline: "Sistem antrean Mal Pelayanan Publik",
    landing_title: "Halaman Loket menurut peran",
    landing_intro: "Pilih halaman untuk perangkat atau peran Anda. Halaman staf meminta nama pengguna dan kata sandi; kios dan TV dipasangkan sekali dengan token dari halaman Admin.",
    landing_filter: "Cari situs",
    landing_none: "Belum ada situs. Muat konfigurasi dengan `loket config load FILE`, atau buat situs di halaman Admin.",
    landing_admin_only: "Admin",
    who_tv: "TV lobi",
    who_kiosk: "Kios tiket",
    who_counter: "Petugas loket",
    who_monitor: "Supervisor",
    who_reports: "Supervisor · evaluator",
    who_evaluation: "Evaluator · admin",
    who_admin: "Admin · supervisor",
    page_tv: "Layar panggilan",
    page_kiosk: "Ambil nomor antrean",
    page_counter: "Konsol petugas",
    page_monitor: "Monitor",
    page_reports: "Laporan",
    page_evaluation: "Evaluasi situs",
    page_admin: "Admin",
    how_tv: "Buka di peramban TV lobi, layar penuh (F11). Klik sekali agar suara panggilan berbunyi.",
    how_kiosk: "Untuk layar sentuh pengunjung. Pasangkan sekali dengan token kios (kode QR di Admin › Token perangkat).",
    how_counter: "Petugas masuk dengan akunnya, memilih loket, lalu menekan Panggil berikutnya.",
    how_monitor: "Keadaan loket dan antrean secara langsung; jeda atau tutup loket; pengumuman ke TV.",
    how_reports: "Angka per hari, layanan, loket dan petugas; IKM; unduh CSV/XLSX; laporan bulanan.",
    how_evaluation: "Semua situs instalasi ini dibandingkan (IKM, SLA, waktu tunggu).",
    how_admin: "Layanan, loket, layar, jam buka, hari libur, akun, token perangkat dan log audit.",
    tv_named: "TV tertentu:",
  },
  en: {
    landing_tagline: "Queueing for public service malls",
    landing_title: "Loket's pages by role",
    landing_intro: "Pick the page for your device or role. Staff pages ask for a username and password; kiosks and TVs are paired once with a token from the Admin page.",
    landing_filter: "Find a site",
    landing_none: "No site yet. Load a configuration with `loket config load FILE`, or create a site on the Admin page.",
    landing_admin_only: "Admin",
    who_tv: "Lobby TV",
    who_kiosk: "Ticket kiosk",
    who_counter: "Counter officer",
    who_monitor: "Supervisor",
    who_reports: "Supervisor · evaluator",
    who_evaluation: "Evaluator · admin",
    who_admin: "Admin · supervisor",
    page_tv: "Call display",
    page_kiosk: "Take a queue number",
    page_counter: "Officer console",
    page_monitor: "Monitor",
    page_reports: "Reports",
    page_evaluation: "Site evaluation",
    page_admin: "Admin",
    how_tv: "Open in the lobby TV's browser, full screen (F11). Click once so the calls can be heard.",
    how_kiosk: "For the visitors' touch screen. Pair it once with a kiosk token (QR code under Admin › Device tokens).",
    how_counter: "Officers sign in, pick their counter, then press Call next.",
    how_monitor: "Counters and queues live; pause or close a counter; announcements on the TVs.",
    how_reports: "Figures per day, service, counter and officer; IKM; CSV/XLSX; the monthly report.",
    how_evaluation: "Every site of this installation compared (IKM, SLA, waiting time).",
    how_admin: "Services, counters, displays, opening hours, holidays, accounts, device tokens and the audit log.",
    tv_named: "A given TV:",
  },
});

const $ = (id) => document.getElementById(id);
const FEW_SITES = 12; // up to this many shown, each site's TVs are listed by name

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined && value !== null) node.setAttribute(name, value);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const PAGES = [
  ["tv", (s) => `/display/${s}`],
  ["kiosk", (s) => `/kiosk/${s}`],
  ["counter", (s) => `/counter/${s}`],
  ["monitor", (s) => `/monitor/${s}`],
  ["reports", (s) => `/reports/${s}`],
  ["evaluation", () => "/evaluation"],
  ["admin", (s) => `/admin?site=${s}`],
];

let sites = [];
const docs = new Map();

function card(site) {
  const id = encodeURIComponent(site.id);
  const tvs = ((docs.get(site.id) || {}).displays || []).filter((d) => d.kind === "tv");
  const roles = PAGES.map(([role, href]) => {
    const extra =
      role === "tv" && tvs.length
        ? el("p", { class: "extra" }, `${t("tv_named")} `, ...tvs.flatMap((d, i) => [i ? " · " : "", el("a", { href: `/display/${id}?display=${encodeURIComponent(d.id)}` }, d.name)]))
        : null;
    return el(
      "li",
      { class: "role", "data-role": role },
      el("span", { class: "who" }, t(`who_${role}`)),
      el("div", {}, el("a", { href: href(id) }, t(`page_${role}`))),
      el("p", {}, t(`how_${role}`)),
      extra,
    );
  });
  return el("section", { class: "card site-card", "data-site": site.id }, el("h2", {}, site.name, el("small", {}, site.id)), el("ul", { class: "roles" }, ...roles));
}

// The configurations of the sites shown (for their named TVs), fetched once each.
async function loadDocs(list) {
  await Promise.all(
    list
      .filter((s) => !docs.has(s.id))
      .map(async (s) => {
        try {
          docs.set(s.id, await api("GET", `/api/v1/sites/${encodeURIComponent(s.id)}`));
        } catch {
          docs.set(s.id, {}); /* a site that needs a display token: its TVs stay unnamed */
        }
      }),
  );
}

function render() {
  const q = $("site-filter").value.trim().toLowerCase();
  const shown = sites.filter((s) => !q || `${s.name} ${s.id}`.toLowerCase().includes(q));
  $("sites").replaceChildren(...(sites.length ? shown.map(card) : [el("p", { class: "muted" }, t("landing_none"))]));
  if (shown.length <= FEW_SITES && shown.some((s) => !docs.has(s.id))) loadDocs(shown).then(render);
}

$("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "id" : "en");
  translatePage();
  render();
});
$("site-filter").addEventListener("input", render);

translatePage();
try {
  sites = (await api("GET", "/api/v1/sites")).sites;
  $("filter-box").hidden = sites.length <= 3;
  if (sites.length <= FEW_SITES) await loadDocs(sites);
  render();
  document.body.dataset.loaded = "1";
} catch (err) {
  $("sites").replaceChildren();
  $("error").textContent = errorText(err);
}
