// Live connection to a site's event stream (spec section 3).
//
// Starts from a snapshot, applies events in seq order, reconnects with backoff and
// resumes with ?since=<last seq>&epoch=<log epoch>, so the server replays exactly what
// was missed (or sends a snapshot when its log started over: another epoch).
// Events at or below the last seen seq are dropped: nothing is shown or announced twice.
// On an unfiltered stream a gap in seq is a fault: reconnect and replay from the last seq.
// The server sends a heartbeat every 15 s; a line silent for 45 s is dead (a NAT or Wi-Fi
// drop the browser did not notice): reconnect.

const SILENCE_MS = 45000;
// The close reason of a `since` the server's log never reached (it lost its store, or
// this screen came from another server): start over from a snapshot, at once.
const SINCE_AHEAD = "since is ahead";

export class EventStream {
  constructor({ site, filters = {}, ticket = null, token = null, onSnapshot, onEvent, onMessage, onStatus }) {
    this.site = site;
    this.filters = filters; // {agency: "a,b", counter: "...", zone: "..."}
    this.ticket = ticket;
    this.token = token;
    this.onSnapshot = onSnapshot || (() => {});
    this.onEvent = onEvent || (() => {});
    this.onMessage = onMessage || (() => {});
    this.onStatus = onStatus || (() => {});
    this.seq = null;
    this.epoch = null; // the id of the server's log our seq belongs to
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.watchdog = null;
    this.online = false;
  }

  listen(socket) {
    clearTimeout(this.watchdog);
    // A dead line may take minutes to report its close: give up on it now.
    this.watchdog = setTimeout(() => {
      socket.onclose = null;
      socket.close(4001, "silent");
      this.closed(socket, 4001, "silent");
    }, SILENCE_MS);
  }

  get filtered() {
    return Object.values(this.filters).some((value) => value);
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(this.filters)) if (value) params.set(name, value);
    if (this.ticket) params.set("ticket", this.ticket);
    if (this.token) params.set("token", this.token);
    if (this.seq !== null) {
      params.set("since", String(this.seq));
      if (this.epoch) params.set("epoch", this.epoch);
    }
    const query = params.toString();
    return `${scheme}//${location.host}/ws/sites/${encodeURIComponent(this.site)}/events${query ? "?" + query : ""}`;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.socket) this.socket.close();
  }

  setStatus(online, reason) {
    if (this.online === online && online) return;
    this.online = online;
    this.onStatus(online ? "online" : "offline", reason);
  }

  connect() {
    clearTimeout(this.timer);
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.setStatus(true);
      this.listen(socket);
    };
    socket.onmessage = (message) => {
      this.listen(socket);
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      this.handle(socket, data);
    };
    socket.onclose = (event) => this.closed(socket, event.code, event.reason || "");
  }

  closed(socket, code, reason) {
    if (this.socket !== socket) return;
    clearTimeout(this.watchdog);
    this.socket = null;
    this.setStatus(false, reason);
    if (this.stopped) return;
    if (code === 1008 && reason.includes(SINCE_AHEAD)) {
      // Our seq means nothing to this log: reconnect without since (a fresh snapshot).
      this.seq = null;
      this.epoch = null;
      this.timer = setTimeout(() => this.connect(), 200 + Math.random() * 800);
      return;
    }
    // 1008: the server refused us (unknown site, bad credential). Keep trying slowly:
    // a TV must come back by itself once the configuration is fixed. 1013: the server
    // lost its store or cut us off; back off and resume with since.
    const base = code === 1008 ? 15000 : 500 * 2 ** Math.min(this.attempt, 5);
    this.attempt += 1;
    const delay = Math.min(15000, base) * (0.75 + Math.random() * 0.5);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  handle(socket, data) {
    if (data.type === "snapshot") {
      this.attempt = 0;
      this.seq = data.seq;
      this.epoch = data.epoch || null;
      this.setStatus(true);
      this.onSnapshot(data.state, data.seq);
      return;
    }
    if (data.type === "heartbeat") return;
    if (data.type === "ready" && data.epoch) this.epoch = data.epoch; // replay complete
    if (data.seq === undefined || data.seq === null) {
      this.attempt = 0;
      this.setStatus(true);
      this.onMessage(data);
      return;
    }
    if (this.seq !== null && data.seq <= this.seq) return; // already applied
    if (this.seq !== null && !this.filtered && data.seq !== this.seq + 1) {
      socket.close(4000, "gap"); // resume from our last seq; the server replays the rest
      return;
    }
    this.attempt = 0;
    this.setStatus(true);
    this.seq = data.seq;
    this.onEvent(data);
  }
}
