"""`loket ...`: serve, config, user, token and counter commands (spec section 5)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging.config
import os
import secrets
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import auth, config, guard, logs
from .audit import Entry
from .embedded_redis import EmbeddedRedis, EmbeddedStoreError, _ping
from .errors import LoketError
from .settings import DEFAULT_DATA_DIR, Settings
from .store import Store, connect, disconnect


def _add_store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("LOKET_DATA_DIR", str(DEFAULT_DATA_DIR))),
        help="where the embedded store keeps its files (default ./loket-data)",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("LOKET_REDIS_URL"),
        help="use this store instead of the embedded one: redis://, rediss://, unix://, "
        "or redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE",
    )
    p.add_argument(
        "--redis-cluster",
        action="store_true",
        default=os.environ.get("LOKET_REDIS_CLUSTER") == "1",
        help="the --redis-url is a Redis Cluster",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="loket", description="Loket: counter call-display system")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (API, websockets, pages)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("LOKET_CONFIG"),
        help="load this site configuration (TOML) at start",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=float(os.environ.get("LOKET_HEADER_TIMEOUT_S", Settings.header_timeout_s)),
        metavar="SECONDS",
        help="close a connection whose request headers take longer (default %(default)s)",
    )
    serve.add_argument(
        "--max-connections-per-client",
        type=int,
        default=int(
            os.environ.get("LOKET_MAX_CONNECTIONS_PER_CLIENT", Settings.max_connections_per_client)
        ),
        metavar="N",
        help="connections one client address may hold, per process (default %(default)s); "
        "the --forwarded-allow-ips proxies are exempt with --proxy-headers",
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        default=os.environ.get("LOKET_PROXY_HEADERS") == "1",
        help="behind a reverse proxy: take the client address and scheme from "
        "X-Forwarded-For/-Proto sent by --forwarded-allow-ips",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        metavar="ADDRESSES",
        help="the reverse proxies' addresses or networks, comma-separated (default %(default)s)",
    )
    serve.add_argument(
        "--ws",
        choices=sorted(guard.WS_PROTOCOLS),
        default=os.environ.get("LOKET_WS", guard.WS_DEFAULT),
        help="uvicorn's websocket implementation (default %(default)s, the leanest measured: "
        "docs/performance.md); wsproto needs the wsproto package",
    )
    serve.add_argument(
        "--redis-wait-replicas",
        type=int,
        default=int(os.environ.get("LOKET_REDIS_WAIT_REPLICAS") or 0),
        metavar="N",
        help="answer a change only once N replicas of the store have it (WAIT; default "
        "%(default)s): no acknowledged ticket is lost when a master fails over; needs N "
        "replicas per master (docs/scaling.md)",
    )
    serve.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default=os.environ.get("LOKET_LOG_FORMAT", "text"),
        help="text for a terminal (default), json for a log pipeline: one JSON object per "
        "line, one line per request",
    )
    _add_store_options(serve)

    cfg = sub.add_parser("config", help="load or print a site configuration")
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    load = cfg_sub.add_parser("load", help="replace a site's configuration from a TOML file")
    load.add_argument("file", type=Path)
    _add_store_options(load)
    dump = cfg_sub.add_parser("dump", help="print a site's configuration as TOML")
    dump.add_argument("--site")
    _add_store_options(dump)

    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="create or update an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    add.add_argument("--site")
    add.add_argument("--counter", action="append", default=[], dest="counters")
    add.add_argument("--password-stdin", action="store_true")
    _add_store_options(add)
    users = user_sub.add_parser("list", help="print every account: name, role, site, counters")
    _add_store_options(users)
    remove = user_sub.add_parser("remove", help="delete an account and end its sessions")
    remove.add_argument("name")
    _add_store_options(remove)

    tok = sub.add_parser("token", help="manage bearer tokens")
    tok_sub = tok.add_subparsers(dest="action", required=True)
    create = tok_sub.add_parser("create", help="print a new bearer token")
    create.add_argument("--role", required=True, choices=auth.ROLES)
    create.add_argument("--site")
    create.add_argument("--name", default="device")
    create.add_argument("--counter", action="append", default=[], dest="counters")
    _add_store_options(create)
    tokens = tok_sub.add_parser(
        "list", help="print the device and script tokens: name, role, site, created, id"
    )
    tokens.add_argument("--site")
    _add_store_options(tokens)
    revoke = tok_sub.add_parser("revoke", help="revoke a token by its device name or itself")
    revoke.add_argument("name_or_token", metavar="NAME_OR_TOKEN")
    revoke.add_argument("--site", help="only a token of this site")
    revoke.add_argument("--id", dest="token_id", help="only the token with this id (token list)")
    _add_store_options(revoke)

    sub.add_parser(
        "counter",
        help="act at a counter: loket counter ACTION --site S --counter ID",
        add_help=False,
    )
    return p


class NoStore(Exception):
    """A command other than `serve` found no embedded store in its --data-dir."""

    def __init__(self, data_dir: Path) -> None:
        shown = str(data_dir) if data_dir.is_absolute() else f"./{data_dir}"
        super().__init__(
            f"no Loket data in {shown}: run this in the folder where `loket serve` runs,"
            " or pass --data-dir / --redis-url"
        )


def has_store(data_dir: Path) -> bool:
    """Whether `loket serve` ever kept a store in DATA_DIR: its append-only files
    (written from the store's first start), or a snapshot."""
    aof = data_dir / "appendonlydir"
    return (aof.is_dir() and any(aof.iterdir())) or (data_dir / "dump.rdb").is_file()


@contextlib.contextmanager
def _redis_url(args: argparse.Namespace) -> Iterator[str]:
    """The store's URL: --redis-url, the running embedded server, or one started for us."""
    if args.redis_url:
        yield args.redis_url
        return
    embedded = EmbeddedRedis(args.data_dir)
    if embedded.socket_path.exists() and _ping(embedded.socket_path):
        yield embedded.url  # `loket serve` is running on this data dir
        return
    if not has_store(args.data_dir):
        raise NoStore(args.data_dir)  # rather than start an empty store beside the real one
    embedded.start()
    try:
        yield embedded.url
    finally:
        embedded.stop()


@contextlib.asynccontextmanager
async def _store(url: str, cluster: bool) -> AsyncIterator[Store]:
    redis = connect(url, cluster=cluster)
    try:
        yield Store(redis)
    finally:
        await disconnect(redis)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SHUTDOWN_DEADLINE_S = 20.0  # after SIGTERM; its steps are bounded well within it


def cli_actor() -> str:
    """Who runs a command, for the audit log: `cli:<unix user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"cli:uid-{os.getuid()}"


async def _audit(
    store: Store, site: str | None, action: str, target: str, detail: dict[str, Any]
) -> None:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    await store.audit.record(site, Entry(at, cli_actor(), action, target, detail))


async def _load_audited(store: Store, site: config.Site) -> int:
    """Load a configuration as a command does, with its audit entry."""
    try:
        old: config.Site | None = (await store.stored_config(site.id))[0]
    except LoketError:
        old = None
    version = await store.load_config(site)
    await _audit(store, site.id, "config.load", site.id, config.diff(old, site))
    return version


def _with_store(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    with _redis_url(args) as url:

        async def run() -> int:
            async with _store(url, args.redis_cluster) as store:
                return await work(store)

        return asyncio.run(run())


def admin_token(data_dir: Path) -> tuple[str, bool]:
    """LOKET_ADMIN_TOKEN, or the one kept in the data dir (made on first start)."""
    env = os.environ.get("LOKET_ADMIN_TOKEN")
    if env:
        return env, False
    path = data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip(), False
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "lkt_admin_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True


def _metrics_dir(data_dir: Path) -> Path:
    """prometheus-client's multiprocess directory for this `loket serve` and its workers
    (metrics.py): DATA_DIR/metrics/PID, empty. Set in the environment before anything
    imports prometheus_client, which reads it at import."""
    own = data_dir.resolve() / "metrics" / str(os.getpid())
    shutil.rmtree(own, ignore_errors=True)
    own.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own)
    return own


def serve(args: argparse.Namespace) -> int:
    log_config = logs.config(args.log_format)
    logging.config.dictConfig(log_config)
    metrics_dir = _metrics_dir(args.data_dir) if args.workers > 1 else None
    try:
        return _serve(args, log_config)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(args: argparse.Namespace, log_config: dict[str, Any]) -> int:
    import uvicorn

    from . import metrics
    from .app import create_app

    if metrics.MULTIPROCESS_DIR is not None:
        metrics.remove_dead_dirs(Path(metrics.MULTIPROCESS_DIR).parent)
    site_config = None
    if args.config:
        site_config = config.load_file(args.config)  # before starting anything
    embedded = None
    url = args.redis_url
    if not url:
        embedded = EmbeddedRedis(args.data_dir, on_restart=metrics.EMBEDDED_RESTARTS.inc)
        try:
            url = embedded.start()
        except EmbeddedStoreError as exc:
            print(f"loket: {exc}", file=sys.stderr)
            return 1
    try:
        token, created = admin_token(args.data_dir)

        async def prepare() -> list[config.Site]:
            async with _store(url, args.redis_cluster) as store:
                if site_config is not None:
                    await _load_audited(store, site_config)
                elif not await store.site_ids():
                    await _load_audited(store, config.load_demo())
                return await store.sites()

        sites = asyncio.run(prepare())
        local = f"http://{args.host}:{args.port}"
        print(
            f"Loket on {local}  (store: {'embedded, ' + str(args.data_dir) if embedded else url})"
        )
        for s in sites:
            base, site = s.public_url or local, s.id
            print(f"  TV        {base}/display/{site}")
            pair = f"`loket token create --role kiosk --site {site}`"
            print(f"  kiosk     {base}/kiosk/{site}?token=<{pair}>")
            print(f"  counter   {base}/counter/{site}")
            print(f"  admin     {base}/admin?site={site}")
            print(f"  status    {base}/api/v1/sites/{site}/state")
        if args.host in LOOPBACK:
            print(loopback_warning(args.port, [s for s in sites if not s.public_url]))
        if created:
            print(f"  admin token (made now, kept in {args.data_dir / 'admin-token'}): {token}")
        elif os.environ.get("LOKET_ADMIN_TOKEN"):
            print("  admin token: from LOKET_ADMIN_TOKEN")
        else:
            print(f"  admin token: in {args.data_dir / 'admin-token'}")
        sys.stdout.flush()
        settings = Settings(
            redis_url=url,
            admin_token=token,
            data_dir=args.data_dir,
            redis_cluster=args.redis_cluster,
            header_timeout_s=args.header_timeout,
            max_connections_per_client=args.max_connections_per_client,
            redis_wait_replicas=args.redis_wait_replicas,
        )
        trusted = args.forwarded_allow_ips.split(",") if args.proxy_headers else []
        common: dict[str, Any] = {
            "host": args.host,
            "port": args.port,
            "ws_per_message_deflate": False,
            # open websockets end at once (guard.py); whatever else runs, don't wait long
            "timeout_graceful_shutdown": 3,
            "log_level": "warning",
            "log_config": log_config,  # applied again in each worker process
            "access_log": False,  # ours (metrics.Observe): route templates, no raw paths
            "proxy_headers": args.proxy_headers,
            "forwarded_allow_ips": args.forwarded_allow_ips,
            **guard.uvicorn_options(
                header_timeout_s=settings.header_timeout_s,
                max_connections_per_client=settings.max_connections_per_client,
                ws_max_frame_bytes=settings.ws_max_frame_bytes,
                trusted_proxies=trusted,
                ws=args.ws,
            ),
        }
        if embedded:
            embedded.supervise(settings.store_restart_check_s)  # restarts it if it dies
        if args.workers > 1:
            os.environ.update(
                {
                    "LOKET_REDIS_URL": url,
                    "LOKET_ADMIN_TOKEN": token,
                    "LOKET_DATA_DIR": str(args.data_dir),
                    "LOKET_REDIS_CLUSTER": "1" if args.redis_cluster else "",
                    "LOKET_REDIS_WAIT_REPLICAS": str(args.redis_wait_replicas),
                }
            )
            uvicorn.run(
                "server.app:create_app_from_env", factory=True, workers=args.workers, **common
            )
        else:
            server = _deadline_server_class()(uvicorn.Config(create_app(settings), **common))
            with contextlib.suppress(KeyboardInterrupt):
                server.run()
            if not server.started:
                return 3  # as uvicorn.run: the app or the socket failed to start
        return 0
    finally:
        if embedded:
            embedded.stop()


def _deadline_server_class() -> type:
    import threading

    import uvicorn

    class DeadlineServer(uvicorn.Server):
        """uvicorn's server with a deadline on its shutdown. A process that stays up after
        SIGTERM stalls a deploy and keeps its port; every step of shutdown is bounded
        (server/tasks.py), and should one still hang, the process exits hard after
        SHUTDOWN_DEADLINE_S. Nothing acknowledged is lost by it: each change was one
        atomic step of the store, and the embedded store stops on its parent's death."""

        deadline: threading.Timer | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            if self.deadline is None:
                self.deadline = threading.Timer(SHUTDOWN_DEADLINE_S, _exit_now)
                self.deadline.daemon = True
                self.deadline.start()

    return DeadlineServer


def _exit_now() -> None:
    logging.getLogger("loket").error(
        "shutdown did not finish within %.0f s: exiting now", SHUTDOWN_DEADLINE_S
    )
    logging.shutdown()
    os._exit(1)


def loopback_warning(port: int, without_public_url: list[config.Site]) -> str:
    """What `loket serve` says when only this machine can reach it."""
    lines = [
        f"  NOTE: listening on this machine only; TVs, kiosks, counters and phones on the"
        f" LAN cannot connect. To open it: loket serve --host 0.0.0.0 --port {port}",
    ]
    if without_public_url:
        ids = ", ".join(s.id for s in without_public_url)
        lines.append(
            f'  and set public_url in [site] of {ids} (e.g. "https://mpp.example.go.id"),'
            " the address visitors' phones open from the QR code on the ticket"
        )
    return "\n".join(lines)


def config_load(args: argparse.Namespace) -> int:
    site = config.load_file(args.file)

    async def work(store: Store) -> int:
        await _load_audited(store, site)
        print(
            f"loaded {site.id}: {len(site.agencies)} agencies, {len(site.services)} services,"
            f" {len(site.counters)} counters"
        )
        return 0

    return _with_store(args, work)


def config_dump(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        ids = await store.site_ids()
        site_id = args.site or (ids[0] if len(ids) == 1 else None)
        if site_id is None:
            print(
                f"loket: name a site with --site ({', '.join(ids) or 'none stored'})",
                file=sys.stderr,
            )
            return 1
        print((await store.site(site_id)).to_toml(), end="")
        return 0

    return _with_store(args, work)


def user_add(args: argparse.Namespace) -> int:
    auth.check_role(args.role, args.site)  # before asking for a password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        print(
            "loket: no terminal to ask for the password: pipe it in with --password-stdin,"
            f' e.g. echo "$PASSWORD" | loket user add {args.name} ... --password-stdin',
            file=sys.stderr,
        )
        return 1
    else:
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Again: ")
        except EOFError:  # Ctrl-D at the prompt
            print("\nloket: no password given, no account saved", file=sys.stderr)
            return 1
        if again != password:
            print("loket: the passwords differ", file=sys.stderr)
            return 1

    async def work(store: Store) -> int:
        if args.site:
            site = await store.site(args.site)
            unknown = [c for c in args.counters if c not in site.counter_by_id]
            if unknown:
                print(f"loket: unknown counter {unknown[0]!r} at {site.id}", file=sys.stderr)
                return 1
        old = await store.accounts.user(args.name)
        await auth.create_user(store, args.name, password, args.role, args.site, args.counters)
        detail = {"role": args.role, "site": args.site, "counters": args.counters}
        action = "user.create" if old is None else "user.change"
        for place in {args.site, old.get("site") if old else args.site}:
            await _audit(store, place, action, args.name, detail)
        print(f"account {args.name} ({args.role}) saved")
        return 0

    return _with_store(args, work)


def user_list(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        for u in await auth.list_users(store):
            print(f"{u.name:<20} {u.role:<10} {u.site or '-':<12} {','.join(u.counters) or '-'}")
        return 0

    return _with_store(args, work)


def user_remove(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        old = await store.accounts.user(args.name)
        if not await auth.remove_user(store, args.name) or old is None:
            print(f"loket: no account named {args.name!r}", file=sys.stderr)
            return 1
        detail = {k: old.get(k) for k in ("role", "site", "counters")}
        await _audit(store, old.get("site"), "user.remove", args.name, detail)
        print(f"account {args.name} removed, its sessions ended")
        return 0

    return _with_store(args, work)


def token_list(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        for t in await auth.list_tokens(store, args.site):
            created = t.created_at or "-"
            print(f"{t.name:<20} {t.role:<10} {t.site or '-':<12} {created:<20} {t.id}")
        return 0

    return _with_store(args, work)


def token_revoke(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        found = await auth.find_tokens(store, args.name_or_token, args.site, args.token_id)
        if not found:
            print(
                "loket: no token matches: give a device name from `loket token list`,"
                " or the token itself",
                file=sys.stderr,
            )
            return 1
        if len(found) > 1:
            ids = ", ".join(f"{t.id} ({t.site or 'all sites'})" for t in found)
            print(
                f"loket: {len(found)} tokens are named {args.name_or_token!r} (ids {ids});"
                " none revoked: narrow it with --site or --id, or give the token itself",
                file=sys.stderr,
            )
            return 1
        await auth.revoke_token(store, found[0])
        t = found[0]
        target = f"token:{t.digest[-12:]} {t.name}"
        await _audit(store, t.site, "token.revoke", target, {"role": t.role})
        print(
            f"revoked {t.role} token {t.name} (id {t.id}) at {t.site or 'all sites'};"
            " refused everywhere within 5 s"
        )
        return 0

    return _with_store(args, work)


def token_create(args: argparse.Namespace) -> int:
    auth.check_role(args.role, args.site)

    async def work(store: Store) -> int:
        if args.site:
            await store.site(args.site)
        token = await auth.create_token(store, args.role, args.site, args.name, args.counters)
        target = f"token:{auth.digest(token)[-12:]} {args.name}"
        await _audit(store, args.site, "token.create", target, {"role": args.role})
        print(f"{args.role} token for {args.name} at {args.site or 'all sites'}:")
        print(token)
        return 0

    return _with_store(args, work)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "counter":
        from counter_client.cli import run

        return run(argv[1:])
    args = parser().parse_args(argv)
    commands: dict[tuple[str, str | None], Callable[[argparse.Namespace], int]] = {
        ("serve", None): serve,
        ("config", "load"): config_load,
        ("config", "dump"): config_dump,
        ("user", "add"): user_add,
        ("user", "list"): user_list,
        ("user", "remove"): user_remove,
        ("token", "create"): token_create,
        ("token", "list"): token_list,
        ("token", "revoke"): token_revoke,
    }
    try:
        return commands[(args.command, getattr(args, "action", None))](args)
    except LoketError as exc:
        print(f"loket: {exc.message}", file=sys.stderr)
        return 1
    except (EmbeddedStoreError, NoStore) as exc:
        print(f"loket: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
