"""`loket config/user/token ...` in the wrong folder, and `loket user add` with no
terminal: one clear line and exit 1, never an empty loket-data nor a traceback.
Real processes, as a newcomer runs them."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port, loket_env, run_loket, start_serve, stop

ROOT = Path(__file__).resolve().parent.parent


def loket_in(
    folder: Path, *args: str, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`loket ARGS...` run from FOLDER (its ./loket-data is the default data dir)."""
    env = loket_env(PYTHONPATH=str(ROOT))
    env.pop("LOKET_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=stdin,
    )


def test_a_command_in_a_folder_without_loket_data_says_where_to_run_it(tmp_path: Path) -> None:
    for args in (("user", "list"), ("token", "create", "--role", "admin"), ("config", "dump")):
        out = loket_in(tmp_path, *args)
        assert out.returncode == 1, out
        assert out.stderr.strip().splitlines() == [
            "loket: no Loket data in ./loket-data: run this in the folder where `loket serve`"
            " runs, or pass --data-dir / --redis-url"
        ]
        assert out.stdout == ""
    assert not (tmp_path / "loket-data").exists()  # nothing made on the way


def test_a_data_dir_without_a_store_is_refused_too(tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()  # a folder, but no store in it
    out = run_loket("token", "list", "--data-dir", str(empty))
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == (
        f"loket: no Loket data in {empty}: run this in the folder where `loket serve` runs,"
        " or pass --data-dir / --redis-url\n"
    )
    assert list(empty.iterdir()) == []


def test_commands_run_on_a_stopped_servers_data_dir(tmp_path: Path) -> None:
    """The store is started for the command when `loket serve` is not running."""
    data = tmp_path / "data"
    stop(start_serve(tmp_path / "serve.log", free_port(), "--data-dir", str(data)))
    out = run_loket("config", "dump", "--site", "bogor", "--data-dir", str(data))
    assert out.returncode == 0, out.stderr
    assert 'id = "bogor"' in out.stdout


def test_user_add_without_a_terminal_is_one_line(tmp_path: Path) -> None:
    out = loket_in(
        tmp_path, "user", "add", "budi", "--role", "officer", "--site", "bogor",
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "EOFError" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "loket: no terminal to ask for the password: pipe it in with --password-stdin,"
        ' e.g. echo "$PASSWORD" | loket user add budi ... --password-stdin'
    ]


def test_ctrl_d_at_the_password_prompt_is_one_line(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "user", "add", "budi", "--role", "admin"],
        cwd=tmp_path,
        env=loket_env(PYTHONPATH=str(ROOT)),
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # no /dev/tty: getpass prompts on stdin, the pty
    )
    os.close(terminal)
    try:
        assert process.stderr is not None
        ready, _, _ = select.select([process.stderr], [], [], 10)
        assert ready, "no password prompt"
        os.write(controller, b"\x04")  # Ctrl-D
        assert process.wait(timeout=10) == 1
        err = process.stderr.read().decode()
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == "loket: no password given, no account saved"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert not (tmp_path / "loket-data").exists()
