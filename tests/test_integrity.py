"""`summit check`: tampering, broken links and unknown names are found."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from agenda import integrity
from agenda.cli import main
from agenda.workspace import Workspace


def _tamper(ws: Workspace, slug: str, edit) -> None:  # type: ignore[no-untyped-def]
    """Edit a summit's stored records and events as a forger would: the journal's line
    checksums are made to match again, the records' ids are left as they were."""
    path = ws.summits_dir / f"{slug}.json"
    header, *lines = path.read_bytes().splitlines()
    batches = [json.loads(line[9:]) for line in lines]
    docs = {"records": [d for b in batches for d in b.get("a", {}).get("records", [])],
            "events": [d for b in batches for d in b.get("a", {}).get("events", [])]}
    data = {"revisions": [d["record"] for d in docs["records"]
                          if d["record"]["kind"] == "revision"],
            "acceptances": [d["record"] for d in docs["records"]
                            if d["record"]["kind"] == "acceptance"],
            "events": docs["events"]}
    edit(data)
    payload = json.dumps({"a": docs}, ensure_ascii=False).encode()
    path.write_bytes(header + b"\n" + b"%08x " % zlib.crc32(payload) + payload + b"\n")


def test_clean_workspace_checks_out(demo: Workspace) -> None:
    assert integrity.check(demo) == []


def test_altered_text_is_found(demo: Workspace) -> None:
    def edit(data: dict) -> None:
        rev = data["revisions"][0]
        rev["body"]["text"] = rev["body"]["text"].replace("Indo-Pacific", "Asia-Pacific")

    _tamper(demo, "india-russia-2021", edit)
    (problem,) = integrity.check(demo)
    assert (problem.item, problem.revision) == ("1.1", "v1")
    assert "hash does not match" in problem.message


def test_broken_links_are_found(demo: Workspace) -> None:
    def edit(data: dict) -> None:
        data["revisions"][1]["body"]["parents"] = ["00000000-dead"]
        data["acceptances"][0]["body"]["revision"] = "missing"
        data["events"][0]["item"] = "ghost"

    _tamper(demo, "india-russia-2021", edit)
    messages = [p.message for p in integrity.check(demo)]
    assert any("parent 00000000 does not exist" in m for m in messages)
    assert any("accepted a revision that does not exist" in m for m in messages)
    assert any("names an item that does not exist" in m for m in messages)


def test_check_command_exit_codes(demo: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--db", str(demo.path)])
    assert capsys.readouterr().out.startswith("ok:")
    _tamper(demo, "india-russia-2021",
            lambda d: d["revisions"][0]["body"].update(justification="forged"))
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--db", str(demo.path)])
    assert exit_.value.code == 1
    assert "1.1 v1: content hash does not match" in capsys.readouterr().out


def test_a_chairs_revisions_check_out(tmp_path: Path) -> None:
    from agenda.model import Delegation

    ws = Workspace(tmp_path / "ws.json", create=True)
    slug = ws.create_summit("S", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                            chair=Delegation("CH", "Chair"), sections=["One"]).slug
    ws.add_item(slug, section="One", title="T", delegation="CH", text="Chair's text.")
    assert integrity.check(ws) == []
