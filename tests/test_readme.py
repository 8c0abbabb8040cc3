"""The README, a newcomer's first page: its commands, links and images hold."""

from __future__ import annotations

import re
from pathlib import Path

from server.cli import NoStore

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
INTERNAL = {"contract-pages.md"}  # for the project's own page authors


def test_the_install_and_test_commands_are_there_exactly() -> None:
    assert "pip install . && loket serve\n" in README
    assert "pip install '.[test]' && pytest\n" in README  # .ci/run runs this one
    assert "python3 -m venv .venv && . .venv/bin/activate" in README
    assert "loket serve --host 0.0.0.0" in README
    assert "loket-data/admin-token" in README


def test_every_link_and_image_exists_and_every_doc_is_linked() -> None:
    targets = re.findall(r"\]\(([^)#]+)\)", README) + re.findall(r'<img src="([^"]+)"', README)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local
    assert [t for t in local if not (ROOT / t).exists()] == []
    docs = {p.name for p in (ROOT / "docs").glob("*.md")} - INTERNAL
    assert docs - {Path(t).name for t in local if t.startswith("docs/")} == set()
    for page in ("landing", "admin", "monitor", "reports", "evaluation"):
        assert f"docs/img/{page}.png" in local


def test_the_cli_message_quoted_is_the_cli_s() -> None:
    said = str(NoStore(Path("loket-data")))
    assert f"loket: {said}" in " ".join(README.replace("``", "").split())
