"""`loket counter ACTION ...`: act at a counter from a shell, a script or a call button.

    loket counter next --site bogor --counter loket-5         ->  A012 called at Loket 5
    loket counter listen --site bogor --counter loket-5       ->  keypad / foot pedal mode

Prints exactly one line per action. Exit codes: 0 success (an empty queue included),
1 the server refused or could not be reached (its message on stderr), 2 usage error.
Token from --token or LOKET_TOKEN, server from --url or LOKET_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TextIO, TypeVar

from counter_client.client import CounterClient, CounterState, LoketApiError, Ticket

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_COOLDOWN_S = 0.8
ESCAPE_WAIT_S = 0.05  # the rest of an escape sequence arrives within this
DEFAULT_KEYS = "n=next,space=next,r=recall,s=start,d=finish,x=no-show,p=pause,o=resume"
ACTIONS = (
    "next", "recall", "start", "finish", "no-show", "transfer", "call",
    "pause", "resume", "close", "open", "status", "listen",
)  # fmt: skip
# Actions a key may trigger in listen mode (transfer and call need an argument).
KEY_ACTIONS = frozenset(ACTIONS) - {"transfer", "call", "listen"}
KEY_NAMES = {"space": " ", "enter": "\n", "return": "\n", "tab": "\t"}
QUIT_KEYS = frozenset({"q", "Q", "\x03", "\x04"})  # q, Ctrl-C, Ctrl-D

T = TypeVar("T")


class UsageError(Exception):
    """Bad arguments: exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loket counter",
        description="Act at a counter (loket) of a running Loket server.",
        epilog="Token: --token or LOKET_TOKEN. Server: --url or LOKET_URL "
        f"(default {DEFAULT_URL}).",
    )
    parser.add_argument("action", choices=ACTIONS, metavar="ACTION", help=", ".join(ACTIONS))
    parser.add_argument("--site", required=True, help="site id, e.g. bogor")
    parser.add_argument("--counter", required=True, help="counter id, e.g. loket-5")
    parser.add_argument("--url", default=None, help="server address")
    parser.add_argument("--token", default=None, help="bearer token (officer, supervisor)")
    parser.add_argument("--service", default=None, help="target service id (transfer)")
    parser.add_argument("--ticket", default=None, help="ticket id (call)")
    parser.add_argument(
        "--cooldown",
        type=float,
        default=DEFAULT_COOLDOWN_S,
        metavar="SECONDS",
        help="listen: ignore the same action repeated within this time, so a held-down "
        f"pedal or a bouncing switch acts once (default {DEFAULT_COOLDOWN_S}; 0 turns it off)",
    )
    parser.add_argument(
        "--keys",
        default=DEFAULT_KEYS,
        help=f"listen: key=action list (default {DEFAULT_KEYS!r}); q or Ctrl-C quits",
    )
    return parser


# --------------------------------------------------------------------------- output


def ticket_line(action: str, ticket: Ticket | None, counter: CounterState | None) -> str:
    where = ticket.counter.name if ticket and ticket.counter else None
    if ticket is None:
        return "no ticket waiting"
    if action in ("next", "call"):
        return f"{ticket.number} called at {where}" if where else f"{ticket.number} called"
    if action == "recall":
        return f"{ticket.number} recalled at {where}" if where else f"{ticket.number} recalled"
    if action == "start":
        return f"{ticket.number} serving at {where}" if where else f"{ticket.number} serving"
    if action == "finish":
        return f"{ticket.number} done"
    if action == "no-show":
        return f"{ticket.number} no-show"
    if action == "transfer":
        return f"{ticket.number} transferred to {ticket.service}"
    return f"{ticket.number} {ticket.status}"


COUNTER_VERBS = {"pause": "paused", "resume": "resumed", "close": "closed", "open": "opened"}


def status_line(counter: CounterState) -> str:
    if counter.ticket is None:
        return f"{counter.name}: {counter.status}, idle"
    verb = "serving" if counter.ticket.status == "serving" else "calling"
    return f"{counter.name}: {counter.status}, {verb} {counter.ticket.number}"


async def perform(
    client: CounterClient,
    action: str,
    site: str,
    counter: str,
    service: str | None = None,
    ticket: str | None = None,
) -> str:
    """Do one action and return the line to print. Raises LoketApiError."""
    if action in COUNTER_VERBS:
        state: CounterState = await getattr(client, action)(site, counter)
        return f"{state.name} {COUNTER_VERBS[action]}"
    if action == "status":
        return status_line(await client.status(site, counter))
    if action == "transfer":
        if not service:
            raise UsageError("transfer needs --service SERVICE_ID")
        return ticket_line(action, await client.transfer(site, counter, service), None)
    if action == "call":
        if not ticket:
            raise UsageError("call needs --ticket TICKET_ID")
        return ticket_line(action, await client.call(site, counter, ticket), None)
    method = getattr(client, action.replace("-", "_"))
    return ticket_line(action, await method(site, counter), None)


# --------------------------------------------------------------------------- running


def _run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop (never touching the caller's global
    event loop); from inside a running loop (an async test, a notebook) use a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            return runner.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
                box["value"] = runner.run(factory())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="loket-counter")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["value"]
    return result


def parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage message
        raise UsageError("") from exc
    args.url = args.url or os.environ.get("LOKET_URL") or DEFAULT_URL
    args.token = args.token or os.environ.get("LOKET_TOKEN")
    if not args.token:
        raise UsageError("no token: pass --token or set LOKET_TOKEN")
    if args.action == "transfer" and not args.service:
        raise UsageError("transfer needs --service SERVICE_ID")
    if args.action == "call" and not args.ticket:
        raise UsageError("call needs --ticket TICKET_ID")
    if args.action == "listen":
        args.keymap = parse_keys(args.keys)
        if args.cooldown < 0:
            raise UsageError("--cooldown must be 0 or more seconds")
    return args


def parse_keys(spec: str) -> dict[str, str]:
    """`"n=next,space=next,r=recall"` -> {"n": "next", " ": "next", "r": "recall"}."""
    keymap: dict[str, str] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        key, sep, action = item.partition("=")
        key, action = key.strip(), action.strip()
        key = KEY_NAMES.get(key.lower(), key)
        if not sep or len(key) != 1 or action not in KEY_ACTIONS:
            raise UsageError(
                f"--keys: bad entry {item!r}: use KEY=ACTION with a single key (or space, "
                f"enter, tab) and one of {', '.join(sorted(KEY_ACTIONS))}"
            )
        if key in QUIT_KEYS:
            raise UsageError(f"--keys: {key!r} is reserved for quitting")
        keymap[key] = action
    if not keymap:
        raise UsageError("--keys: no key mapped")
    return keymap


def run(argv: list[str]) -> int:
    """Entry point of `loket counter ...` (argv: everything after `loket counter`)."""
    try:
        args = parse(argv)
    except UsageError as exc:
        if str(exc):
            print(f"loket counter: {exc}", file=sys.stderr)
        return 2
    if args.action == "listen":
        return listen(args, sys.stdin, sys.stdout)

    async def once() -> str:
        async with CounterClient(args.url, args.token) as client:
            return await perform(
                client, args.action, args.site, args.counter, args.service, args.ticket
            )

    try:
        line = _run_coroutine(once)
    except LoketApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(line, flush=True)
    return 0


# --------------------------------------------------------------------------- listen mode


@contextlib.contextmanager
def cbreak(stream: TextIO) -> Iterator[None]:
    """Single key presses without Enter (termios cbreak: no echo, no line buffering)."""
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def tty_keys(stream: TextIO) -> Iterator[str]:
    """Single key presses. Escape sequences (arrows, F-keys: ESC [ 1 5 ~) are dropped
    whole, so a mapped digit or letter never fires from inside one."""
    fd = stream.fileno()

    def follow() -> bytes:
        """The next byte if it comes at once (part of a sequence), else b""."""
        return os.read(fd, 1) if select.select([fd], [], [], ESCAPE_WAIT_S)[0] else b""

    while True:
        data = os.read(fd, 1)
        if not data:
            return
        if data != b"\x1b":
            yield "\n" if data == b"\r" else data.decode("latin-1")
            continue
        kind = follow()
        if kind == b"[":  # CSI: parameter and intermediate bytes, then one final byte
            while (byte := follow()) and not 0x40 <= byte[0] <= 0x7E:
                pass
        elif kind == b"O":  # SS3 (F1-F4 on many terminals): one more byte
            follow()


def line_keys(stream: TextIO) -> Iterator[str]:
    """Not a terminal: each line is a key (`n`, `space`) or an action name (`next`)."""
    for raw in stream:
        line = raw.strip()
        if line:
            yield line


def describe(keymap: dict[str, str]) -> str:
    names = {value: name for name, value in KEY_NAMES.items() if name != "return"}
    return ", ".join(f"{names.get(key, key)}={action}" for key, action in keymap.items())


def resolve(key: str, keymap: dict[str, str]) -> str | None:
    """The action of a key press, of a line naming a key (`space`), or of an action name."""
    if key in keymap:
        return keymap[key]
    named = KEY_NAMES.get(key.lower())
    if named is not None and named in keymap:
        return keymap[named]
    return key if key in KEY_ACTIONS else None


def listen(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    keymap: dict[str, str] = args.keymap
    interactive = stdin.isatty()
    status = 0
    last_action, last_done = "", 0.0
    with contextlib.ExitStack() as stack:
        if interactive:
            stack.enter_context(cbreak(stdin))
            print(f"listening at {args.counter} ({describe(keymap)}; q quits)", file=sys.stderr)
            sys.stderr.flush()
        runner = stack.enter_context(asyncio.Runner(loop_factory=asyncio.new_event_loop))
        client = CounterClient(args.url, args.token)
        stack.callback(lambda: runner.run(client.aclose()))
        keys = tty_keys(stdin) if interactive else line_keys(stdin)
        try:
            for key in keys:
                if key in QUIT_KEYS:
                    break
                action = resolve(key, keymap)
                if action is None:
                    if not interactive:
                        print(f"unknown key: {key}", file=sys.stderr, flush=True)
                    continue
                if action == last_action and time.monotonic() - last_done < args.cooldown:
                    print(f"ignored repeated {action}", file=sys.stderr, flush=True)
                    continue
                try:
                    line = runner.run(perform(client, action, args.site, args.counter))
                except LoketApiError as exc:
                    print(f"error: {exc.message}", file=sys.stderr, flush=True)
                    status = 1
                    line = None
                last_action, last_done = action, time.monotonic()
                if line is not None:
                    print(line, file=stdout, flush=True)
        except KeyboardInterrupt:
            pass
    return status


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
