// Every user-visible word of the officer console, in Indonesian (default) and English.
// The choice is remembered on this machine (localStorage "loket.lang").

const STRINGS = {
  id: {
    app_title: "Konsol Petugas Loket",
    loading: "Memuat…",
    login_title: "Masuk petugas",
    login_hint: "Gunakan akun yang diberikan oleh supervisor atau admin.",
    username: "Nama pengguna",
    password: "Kata sandi",
    login: "Masuk",
    logging_in: "Sedang masuk…",
    logout: "Keluar",
    login_failed: "Nama pengguna atau kata sandi salah.",
    change_counter: "Ganti loket",
    pick_title: "Pilih loket",
    pick_search: "Cari loket atau instansi…",
    pick_none: "Anda belum ditugaskan di loket mana pun di situs ini. Hubungi supervisor.",
    pick_other_site: "Akun Anda terdaftar untuk situs lain. Keluar, lalu masuk dengan akun situs ini.",
    pick_no_match: "Tidak ada loket yang cocok.",
    pick_gone: "Loket {counter} tidak ada lagi di situs ini. Pilih loket lain.",
    current_ticket: "Tiket saat ini",
    no_ticket: "Belum ada tiket. Tekan Berikutnya untuk memanggil.",
    no_ticket_paused: "Loket sedang jeda. Tekan Lanjutkan untuk melayani lagi.",
    no_ticket_closed: "Loket tutup. Tekan Buka loket untuk mulai melayani.",
    status_called: "Dipanggil",
    status_serving: "Sedang dilayani",
    counter_open: "Buka",
    counter_paused: "Jeda",
    counter_closed: "Tutup",
    called_for: "Dipanggil {time} yang lalu",
    serving_for: "Dilayani selama {time}",
    recalls: "dipanggil ulang {n}×",
    transfers: "dialihkan {n}×",
    priority: "Prioritas",
    act_next: "Berikutnya",
    act_recall: "Panggil ulang",
    act_start: "Mulai layani",
    act_finish: "Selesai",
    act_no_show: "Tidak hadir",
    act_transfer: "Alihkan",
    act_pause: "Jeda",
    act_resume: "Lanjutkan",
    act_close: "Tutup loket",
    act_open: "Buka loket",
    act_call: "Panggil",
    waiting_title: "Menunggu",
    waiting_total: "Total",
    next_title: "Antrian berikutnya",
    next_hint: "(urutan panggil)",
    queue_empty: "Tidak ada yang menunggu.",
    waited: "menunggu {time}",
    today_title: "Hari ini di loket ini",
    today_served: "Dilayani",
    today_no_show: "Tidak hadir",
    today_avg: "Rata-rata layanan",
    cancel: "Batal",
    confirm_no_show_title: "Tandai {number} tidak hadir?",
    confirm_no_show_text: "Pengunjung tidak datang setelah dipanggil. Tiket ini akan ditutup.",
    confirm_no_show_ok: "Ya, tidak hadir",
    confirm_close_title: "Tutup {counter}?",
    confirm_close_text: "Loket tidak akan memanggil antrian sampai dibuka lagi.",
    unstarted_title: "Nomor {number} belum mulai dilayani. Apakah pengunjung sudah dilayani?",
    unstarted_text:
      "Sudah dilayani: pengunjung datang dan dilayani (tanpa menekan Mulai layani). Tidak hadir: pengunjung tidak datang; tiket ditandai tidak hadir, lalu nomor berikutnya dipanggil.",
    unstarted_keys: "Tombol: S = sudah dilayani, T = tidak hadir, Esc = batal.",
    unstarted_served: "Sudah dilayani",
    unstarted_no_show: "Tidak hadir",
    confirm_close_ok: "Ya, tutup loket",
    transfer_title: "Alihkan ke layanan lain",
    transfer_text: "Tiket {number} akan kembali menunggu di layanan yang Anda pilih, dengan waktu ambil yang sama.",
    transfer_search: "Cari nama layanan, instansi, atau awalan nomor…",
    transfer_none: "Tidak ada layanan yang cocok.",
    service_closed_tag: "tutup",
    done_next: "{number} dipanggil ke {counter}.",
    done_call: "{number} dipanggil ke {counter}.",
    done_recall: "{number} dipanggil ulang.",
    done_start: "Mulai melayani {number}.",
    done_finish: "{number} selesai.",
    "done_no-show": "{number} ditandai tidak hadir.",
    done_transfer: "{number} dialihkan ke {service}.",
    done_pause: "Loket dijeda.",
    done_resume: "Loket kembali melayani.",
    done_close: "Loket ditutup.",
    done_open: "Loket dibuka.",
    queue_empty_next: "Tidak ada antrian.",
    offline: "Koneksi terputus, mencoba lagi…",
    back_online: "Tersambung kembali.",
    not_assigned: "Anda tidak ditugaskan di loket ini.",
    paused_notice: "Loket sedang jeda: tidak ada panggilan baru sampai Anda menekan Lanjutkan.",
    closed_notice: "Loket tutup: tekan Buka loket untuk mulai melayani.",
    changed_elsewhere: "Status loket diubah dari tempat lain.",
    err_counter_paused: "Loket sedang jeda.",
    err_counter_closed: "Loket sedang tutup.",
    err_no_current_ticket: "Tidak ada tiket yang sedang dilayani di loket ini.",
    err_illegal_transition: "Tindakan ini tidak bisa dilakukan pada status tiket sekarang. Tampilan sudah diperbarui.",
    err_service_closed: "Layanan tujuan sedang tutup.",
    err_quota_reached: "Kuota layanan hari ini sudah habis.",
    err_not_found: "Data tidak ditemukan (mungkin sudah berubah). Tampilan sudah diperbarui.",
    err_forbidden: "Anda tidak ditugaskan di loket ini.",
    err_not_your_counter: "Anda tidak ditugaskan di loket ini.",
    err_counter_busy: "Selesaikan, alihkan, atau tandai tidak hadir tiket saat ini terlebih dahulu.",
    err_wrong_service: "Loket ini tidak melayani layanan tiket tersebut.",
    err_busy: "Tiket sedang diproses di tempat lain. Coba lagi.",
    err_csrf_failed: "Sesi halaman ini tidak valid lagi. Muat ulang halaman.",
    err_bad_login: "Nama pengguna atau kata sandi salah.",
    err_unauthorized: "Sesi Anda berakhir. Silakan masuk lagi.",
    err_rate_limited: "Terlalu banyak permintaan. Tunggu sebentar, lalu coba lagi.",
    err_invalid_field: "Isian tidak valid.",
    err_network_error: "Koneksi terputus. Periksa jaringan, lalu coba lagi.",
    err_storage_unavailable: "Server sedang bermasalah. Coba lagi sebentar lagi.",
    err_other: "Terjadi kesalahan: {message}",
    minutes_short: "mnt",
    seconds_short: "dtk",
  },
  en: {
    app_title: "Counter Officer Console",
    loading: "Loading…",
    login_title: "Officer sign-in",
    login_hint: "Use the account your supervisor or administrator gave you.",
    username: "Username",
    password: "Password",
    login: "Sign in",
    logging_in: "Signing in…",
    logout: "Sign out",
    login_failed: "Wrong username or password.",
    change_counter: "Change counter",
    pick_title: "Choose your counter",
    pick_search: "Search counters or agencies…",
    pick_none: "You are not assigned to any counter of this site. Ask your supervisor.",
    pick_other_site: "Your account belongs to another site. Sign out, then sign in with an account of this site.",
    pick_no_match: "No counter matches.",
    pick_gone: "Counter {counter} no longer exists at this site. Choose another one.",
    current_ticket: "Current ticket",
    no_ticket: "No ticket yet. Press Next to call one.",
    no_ticket_paused: "The counter is paused. Press Resume to serve again.",
    no_ticket_closed: "The counter is closed. Press Open counter to start serving.",
    status_called: "Called",
    status_serving: "Being served",
    counter_open: "Open",
    counter_paused: "Paused",
    counter_closed: "Closed",
    called_for: "Called {time} ago",
    serving_for: "Serving for {time}",
    recalls: "recalled {n}×",
    transfers: "transferred {n}×",
    priority: "Priority",
    act_next: "Next",
    act_recall: "Recall",
    act_start: "Start",
    act_finish: "Done",
    act_no_show: "No-show",
    act_transfer: "Transfer",
    act_pause: "Pause",
    act_resume: "Resume",
    act_close: "Close counter",
    act_open: "Open counter",
    act_call: "Call",
    waiting_title: "Waiting",
    waiting_total: "Total",
    next_title: "Next in line",
    next_hint: "(call order)",
    queue_empty: "Nobody is waiting.",
    waited: "waiting {time}",
    today_title: "Today at this counter",
    today_served: "Served",
    today_no_show: "No-shows",
    today_avg: "Average service",
    cancel: "Cancel",
    confirm_no_show_title: "Mark {number} as no-show?",
    confirm_no_show_text: "The visitor did not come after being called. The ticket will be closed.",
    confirm_no_show_ok: "Yes, no-show",
    confirm_close_title: "Close {counter}?",
    confirm_close_text: "The counter will call nobody until it is opened again.",
    unstarted_title: "Ticket {number} was never started. Has the visitor been served?",
    unstarted_text:
      "Served: the visitor came and was served (without pressing Start). No-show: the visitor never came; the ticket is marked as a no-show, then the next number is called.",
    unstarted_keys: "Keys: S = served (sudah), T = no-show (tidak hadir), Esc = cancel.",
    unstarted_served: "Served",
    unstarted_no_show: "No-show",
    confirm_close_ok: "Yes, close it",
    transfer_title: "Transfer to another service",
    transfer_text: "Ticket {number} will wait again in the service you choose, keeping its issue time.",
    transfer_search: "Search service name, agency or number prefix…",
    transfer_none: "No service matches.",
    service_closed_tag: "closed",
    done_next: "{number} called to {counter}.",
    done_call: "{number} called to {counter}.",
    done_recall: "{number} called again.",
    done_start: "Serving {number}.",
    done_finish: "{number} done.",
    "done_no-show": "{number} marked as no-show.",
    done_transfer: "{number} transferred to {service}.",
    done_pause: "Counter paused.",
    done_resume: "Counter serving again.",
    done_close: "Counter closed.",
    done_open: "Counter opened.",
    queue_empty_next: "Nobody is waiting.",
    offline: "Connection lost, retrying…",
    back_online: "Connected again.",
    not_assigned: "You are not assigned to this counter.",
    paused_notice: "The counter is paused: no new calls until you press Resume.",
    closed_notice: "The counter is closed: press Open counter to start serving.",
    changed_elsewhere: "The counter was changed from elsewhere.",
    err_counter_paused: "The counter is paused.",
    err_counter_closed: "The counter is closed.",
    err_no_current_ticket: "This counter holds no ticket.",
    err_illegal_transition: "That is not possible in the ticket's current status. The screen has been refreshed.",
    err_service_closed: "The target service is closed.",
    err_quota_reached: "Today's quota of that service is used up.",
    err_not_found: "Not found (it may have changed). The screen has been refreshed.",
    err_forbidden: "You are not assigned to this counter.",
    err_not_your_counter: "You are not assigned to this counter.",
    err_counter_busy: "Finish, transfer or mark the current ticket as no-show first.",
    err_wrong_service: "This counter does not serve that ticket's service.",
    err_busy: "The ticket is being changed elsewhere. Try again.",
    err_csrf_failed: "This page's session is no longer valid. Reload the page.",
    err_bad_login: "Wrong username or password.",
    err_unauthorized: "Your session has ended. Please sign in again.",
    err_rate_limited: "Too many requests. Wait a moment, then try again.",
    err_invalid_field: "Invalid input.",
    err_network_error: "Connection lost. Check the network, then try again.",
    err_storage_unavailable: "The server has a problem. Try again in a moment.",
    err_other: "Something went wrong: {message}",
    minutes_short: "min",
    seconds_short: "s",
  },
};

const KEY = "loket.lang";
let current = "id";
try {
  const saved = localStorage.getItem(KEY);
  if (saved && STRINGS[saved]) current = saved;
} catch {
  /* storage blocked: stay Indonesian */
}

export function lang() {
  return current;
}

export function setLang(value) {
  if (!STRINGS[value]) return;
  current = value;
  try {
    localStorage.setItem(KEY, value);
  } catch {
    /* ignore */
  }
}

export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.id[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

// The message for an ApiError: from its code when we know it, else the server's words.
export function errorText(error) {
  const code = error && error.code;
  if (code && STRINGS.id[`err_${code}`]) return t(`err_${code}`);
  if (error && error.status === 0) return t("err_network_error");
  return t("err_other", { message: (error && error.message) || String(error) });
}

// Fill the static text of the page: data-i18n (text), data-i18n-placeholder.
export function translatePage(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}
