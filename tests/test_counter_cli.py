"""`loket counter ...` (counter_client.cli) against the live server: in-process with
capsys, and as a subprocess for the exit codes and the terminal (raw key) mode."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from counter_client.cli import parse_keys, run

ROOT = Path(__file__).resolve().parent.parent
COUNTER = "loket-1"  # demo site: Disdukcapil, services ktp-el (KT) and ktp-el-ubah (A)


def issue(server: Any, site: str, service: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/v1/sites/{site}/tickets",
        json={"service": service},
        headers={"Authorization": f"Bearer {server.admin_token}"},
    )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


def counter_cmd(action: str, site: str, *extra: str) -> list[str]:
    return [action, "--site", site, "--counter", COUNTER, *extra]


@pytest.fixture
def env(server: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A fresh site; LOKET_URL and LOKET_TOKEN (a supervisor of it) in the environment."""
    site = server.new_site()
    monkeypatch.setenv("LOKET_URL", server.url)
    monkeypatch.setenv("LOKET_TOKEN", server.token("supervisor", site))
    return server, site


def test_every_command(env: tuple[Any, str], capsys: pytest.CaptureFixture[str]) -> None:
    server, site = env
    first = issue(server, site, "ktp-el")["number"]
    second = issue(server, site, "ktp-el")["number"]
    third = issue(server, site, "ktp-el-ubah")

    def ok(*argv: str) -> str:
        assert run(list(argv)) == 0
        out, err = capsys.readouterr()
        assert err == "" and out.count("\n") == 1, (out, err)
        return out.strip()

    assert ok(*counter_cmd("status", site)) == "Loket 1: open, idle"
    # --url and --token win over the environment.
    token = server.token("supervisor", site)
    assert ok(*counter_cmd("next", site, "--url", server.url, "--token", token)) == (
        f"{first} called at Loket 1"
    )
    assert ok(*counter_cmd("recall", site)) == f"{first} recalled at Loket 1"
    assert ok(*counter_cmd("status", site)) == f"Loket 1: open, calling {first}"
    assert ok(*counter_cmd("start", site)) == f"{first} serving at Loket 1"
    assert ok(*counter_cmd("status", site)) == f"Loket 1: open, serving {first}"
    assert ok(*counter_cmd("transfer", site, "--service", "ktp-el-cetak")) == (
        f"{first} transferred to ktp-el-cetak"
    )
    assert ok(*counter_cmd("next", site)) == f"{second} called at Loket 1"
    assert ok(*counter_cmd("no-show", site)) == f"{second} no-show"
    assert ok(*counter_cmd("call", site, "--ticket", third["id"])) == (
        f"{third['number']} called at Loket 1"
    )
    assert ok(*counter_cmd("finish", site)) == f"{third['number']} done"
    assert ok(*counter_cmd("next", site)) == "no ticket waiting"
    assert ok(*counter_cmd("pause", site)) == "Loket 1 paused"

    assert run(counter_cmd("next", site)) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1

    assert ok(*counter_cmd("resume", site)) == "Loket 1 resumed"
    assert ok(*counter_cmd("close", site)) == "Loket 1 closed"
    assert ok(*counter_cmd("open", site)) == "Loket 1 opened"
    assert ok(*counter_cmd("status", site)) == "Loket 1: open, idle"


def test_errors(env: tuple[Any, str], capsys: pytest.CaptureFixture[str]) -> None:
    server, site = env
    assert run(counter_cmd("next", site, "--token", "bad-token")) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert run(["status", "--site", site, "--counter", "loket-999"]) == 1
    assert "loket-999" in capsys.readouterr().err
    server.user("cli-officer", "rahasia-123", role="officer", site=site, counters=[COUNTER])
    login = httpx.post(
        f"{server.url}/api/v1/auth/login",
        json={"username": "cli-officer", "password": "rahasia-123"},
    )
    officer = login.json()["token"]
    assert run(["next", "--site", site, "--counter", "loket-2", "--token", officer]) == 1
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["next"],
        ["next", "--site", "bogor"],
        ["dance", "--site", "bogor", "--counter", COUNTER],
        ["transfer", "--site", "bogor", "--counter", COUNTER],
        ["call", "--site", "bogor", "--counter", COUNTER],
        ["listen", "--site", "bogor", "--counter", COUNTER, "--keys", "nn=next"],
        ["listen", "--site", "bogor", "--counter", COUNTER, "--keys", "n=transfer"],
    ],
)
def test_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOKET_TOKEN", "t")
    assert run(argv) == 2
    assert capsys.readouterr().err


def test_missing_token_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOKET_TOKEN", raising=False)
    assert run(["next", "--site", "bogor", "--counter", COUNTER]) == 2
    assert "LOKET_TOKEN" in capsys.readouterr().err


def test_parse_keys() -> None:
    assert parse_keys("n=next, space=next,Enter=finish,x=no-show") == {
        "n": "next",
        " ": "next",
        "\n": "finish",
        "x": "no-show",
    }


def test_listen_reads_lines_when_not_a_tty(
    env: tuple[Any, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, site = env
    first = issue(server, site, "ktp-el")["number"]
    # keys, a key name, an action name, an unknown key, a repeat (a held-down pedal)
    # that the cooldown swallows, then q quits (the rest is ignored)
    lines = "n\nr\nstart\n?\nd\nd\nspace\nq\nn\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert run(counter_cmd("listen", site)) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{first} called at Loket 1",
        f"{first} recalled at Loket 1",
        f"{first} serving at Loket 1",
        f"{first} done",
        "no ticket waiting",
    ]
    assert "unknown key: ?" in err and "ignored repeated finish" in err


def subprocess_env(server: Any, site: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(
        LOKET_URL=server.url,
        LOKET_TOKEN=server.token("supervisor", site),
        PYTHONPATH=str(ROOT),
    )
    return env


def test_subprocess_exit_codes(server: Any) -> None:
    site = server.new_site()
    first = issue(server, site, "ktp-el")["number"]
    env = subprocess_env(server, site)

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "counter_client.cli", *argv],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )

    done = cli(*counter_cmd("next", site))
    assert (done.returncode, done.stdout) == (0, f"{first} called at Loket 1\n")
    empty = cli(*counter_cmd("next", site))
    assert (empty.returncode, empty.stdout) == (0, "no ticket waiting\n")
    refused = cli(*counter_cmd("next", site, "--token", "nope"))
    assert refused.returncode == 1 and refused.stdout == "" and refused.stderr.startswith("error:")
    usage = cli("next", "--site", site)
    assert usage.returncode == 2 and "--counter" in usage.stderr


def read_line(stream: IO[str], timeout_s: float = 10) -> str:
    """One line from a child's pipe, failing fast instead of hanging the suite."""
    ready, _, _ = select.select([stream], [], [], timeout_s)
    assert ready, "no output from the child process"
    return stream.readline()


def test_listen_single_keys_on_a_terminal(server: Any) -> None:
    """On a terminal, listen reads single key presses (no Enter), like a foot pedal."""
    site = server.new_site()
    first = issue(server, site, "ktp-el")["number"]
    listen_argv = counter_cmd("listen", site, "--keys", "n=next,s=start,5=finish")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "counter_client.cli", *listen_argv],
        env=subprocess_env(server, site),
        cwd=ROOT,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(terminal)
    try:
        assert process.stderr is not None and process.stdout is not None
        assert "listening" in read_line(process.stderr)  # raw mode is set up by now
        os.write(controller, b"n")
        assert read_line(process.stdout) == f"{first} called at Loket 1\n"
        os.write(controller, b"\x1b[15~s")  # F5 (an escape sequence, ignored whole), then s
        assert read_line(process.stdout) == f"{first} serving at Loket 1\n"
        os.write(controller, b"q")
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
