"""Keys: fingerprints, binding a workspace to its home delegation, trust, and the git door."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import orjson
import pytest
from conftest import TickingClock
from hypothesis import given
from hypothesis import strategies as st

from agenda import records
from agenda.backup import backup
from agenda.cli import main
from agenda.exchange import identity, keys
from agenda.exchange.git import Git, GitError, Result
from agenda.exchange.keys import KeyProblem
from agenda.model import AgendaError, Delegation
from agenda.workspace import Workspace

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@given(st.binary(min_size=32, max_size=32))
def test_a_fingerprint_reads_back_typed_any_way(public: bytes) -> None:
    fp = keys.fingerprint(public)
    groups = fp.split("-")
    assert len(groups) == 8 and all(len(g) == 7 for g in groups)
    assert keys.normalise_fingerprint(fp.lower().replace("-", " ")) == fp
    assert keys.normalise_fingerprint(fp.replace("-", "")) == fp


@given(st.binary(min_size=32, max_size=32), st.integers(0, 55), st.integers(1, 31))
def test_any_one_mistyped_character_is_caught(public: bytes, where: int, shift: int) -> None:
    flat = keys.fingerprint(public).replace("-", "")
    typo = flat[:where] + _B32[(_B32.index(flat[where]) + shift) % 32] + flat[where + 1:]
    with pytest.raises(KeyProblem):
        keys.normalise_fingerprint(typo)


def _bound(tmp_path: Path, name: str, code: str) -> tuple[Workspace, str]:
    ws = Workspace(tmp_path / name / "ws.json", create=True, clock=TickingClock())
    return ws, identity.init(ws, code)


def test_keys_init_binds_and_private_keys_stay_private(tmp_path: Path) -> None:
    ws, fp = _bound(tmp_path, "in", "IN")
    shown = identity.show(ws)
    assert shown["delegation"] == "IN" and shown["fingerprint"] == fp
    folder = keys.keys_dir(ws.path)
    assert sorted(p.name for p in folder.iterdir()) == ["device.age", "device.pem", "root.pem"]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    slug = ws.create_summit("S", [Delegation("IN", "India"), Delegation("RU", "Russia")]).slug
    ws.add_item(slug, section="1", title="Ports", text="Ports.", delegation="IN")
    secrets = [p.read_bytes() for p in folder.iterdir()]
    body = [line for s in secrets for line in s.splitlines() if b"-----" not in line]
    archive = backup(ws, tmp_path / "backup.zip")
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        packed = b"".join(z.read(n) for n in names)
    assert not any("keys" in n for n in names)
    stored = orjson.dumps(ws.stored(slug))
    for line in body:
        assert line not in packed and line not in stored
    # Every record is signed by the device, the genesis included, and introduces the device.
    docs = ws.stored(slug)[0]
    decoded = [records.decode(d) for d in docs]
    assert all(r.signer == shown["device"] and r.sig for r in decoded)
    assert decoded[0].author == "IN" and decoded[1].kind == records.KEY_CERT
    assert keys.signature_problems(decoded, ws.pinned()) == []
    with pytest.raises(AgendaError, match="already bound"):
        identity.init(ws, "IN")


def test_an_unbound_workspace_writes_as_before(ws: Workspace, slug: str) -> None:
    docs = ws.stored(slug)[0]
    assert all(d["record"]["signer"] is None and d["sig"] is None for d in docs)
    assert ws.identity() is None


def test_a_workspace_written_without_keys_is_not_bound(ws: Workspace, slug: str) -> None:
    with pytest.raises(AgendaError, match="written without keys"):
        identity.init(ws, "IN")
    assert ws.identity() is None and not keys.keys_dir(ws.path).exists()


def test_trust_needs_the_fingerprint_read_aloud(tmp_path: Path) -> None:
    india, _ = _bound(tmp_path, "in", "IN")
    russia, fp = _bound(tmp_path, "ru", "RU")
    card = identity.card(russia)
    other = keys.fingerprint(b"\1" * 32)
    with pytest.raises(AgendaError, match="does not match"):
        identity.trust(india, card, other)
    assert set(india.pinned()) == {"IN"}
    assert identity.trust(india, card, fp.lower()) == fp
    assert set(india.pinned()) == {"IN", "RU"}
    forged = {**card, "root": keys.b64(b"\2" * 32)}
    with pytest.raises(AgendaError, match="another root key"):
        identity.trust(india, forged, keys.fingerprint(b"\2" * 32))


def test_a_second_officer_is_certified_by_the_root(tmp_path: Path) -> None:
    first, fp = _bound(tmp_path, "a", "IN")
    second = Workspace(tmp_path / "b" / "ws.json", create=True)
    request = identity.enrol(second, "IN")
    answer = identity.certify(first, request)
    assert identity.install(second, answer) == fp
    assert second.identity().home == "IN"
    stranger, _ = _bound(tmp_path, "ru", "RU")
    with pytest.raises(AgendaError, match="certifies RU's devices only"):
        identity.certify(stranger, request)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_keys_and_the_home_delegation(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "in.json")
    code, out, _ = _cli(capsys, "--db", db, "keys", "init", "--as", "IN")
    assert code == 0 and "fingerprint" in out
    code, out, _ = _cli(capsys, "keys", "show", "--json", "--db", db)
    shown = orjson.loads(out)
    assert code == 0 and shown["delegation"] == "IN" and len(shown["device"]) == 32
    card = tmp_path / "in.card"
    assert _cli(capsys, "--db", db, "keys", "card", "-o", str(card))[0] == 0
    ru_db = str(tmp_path / "ru.json")
    _cli(capsys, "--db", ru_db, "keys", "init", "--as", "RU")
    code, _, err = _cli(capsys, "--db", ru_db, "keys", "trust", str(card),
                        "--fingerprint", keys.fingerprint(b"\3" * 32))
    assert code == 1 and err.count("\n") == 1 and "does not match" in err
    code, out, _ = _cli(capsys, "--db", ru_db, "keys", "trust", str(card),
                        "--fingerprint", shown["fingerprint"])
    assert code == 0
    assert _cli(capsys, "--db", db, "new", "S", "--delegation", "IN=India",
                "--delegation", "RU=Russia")[0] == 0
    # Commands that write default to the home delegation ...
    code, out, _ = _cli(capsys, "--db", db, "add", "--section", "1", "--title", "Ports",
                        "--text", "Ports.")
    assert code == 0 and out.strip() == "1.1"
    # ... and no other delegation can be acted as: one line, exit 1, nothing written.
    before = [p.read_bytes() for p in sorted((tmp_path / "in.summits").iterdir())]
    code, _, err = _cli(capsys, "--db", db, "table", "1.1", "--as", "RU", "--text", "x")
    assert code == 1 and err.count("\n") == 1 and "Only RU's own workspace" in err
    assert [p.read_bytes() for p in sorted((tmp_path / "in.summits").iterdir())] == before
    code, out, _ = _cli(capsys, "--db", db, "check")
    assert code == 0 and out.startswith("ok")


def test_git_missing_or_old_is_one_line_and_other_commands_still_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    old = Git(tmp_path / "r.git", runner=lambda argv, stdin, env: Result(
        0, b"git version 2.20.1\n", b""))
    with pytest.raises(GitError, match="2.20 is too old"):
        old.init()
    calls: list[list[str]] = []

    def fake(argv, stdin, env):  # noqa: ANN001 - the runner signature
        calls.append(list(argv))
        return Result(0, b"git version 2.39.5\n", b"")

    Git(tmp_path / "r.git", runner=fake).check_version()
    assert calls == [["git", "--version"]]
    assert all(not k.startswith("GIT_") or k in ("GIT_CONFIG_NOSYSTEM", "GIT_TERMINAL_PROMPT")
               or "NAME" in k or "EMAIL" in k for k in Git(tmp_path)._env())
    db = str(tmp_path / "in.json")
    _cli(capsys, "--db", db, "keys", "init", "--as", "IN")
    _cli(capsys, "--db", db, "new", "S", "--delegation", "IN=India", "--delegation", "RU=R")
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    code, _, err = _cli(capsys, "--db", db, "remote", "add", "joint", "file:///nowhere.git")
    assert code == 1 and err.count("\n") == 1 and "git is not installed" in err
    code, out, _ = _cli(capsys, "--db", db, "summits")
    assert code == 0 and "s" in out


def test_sync_needs_a_bound_workspace_and_a_remote(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "w.json")
    Workspace(db, create=True).close()
    code, _, err = _cli(capsys, "--db", db, "sync")
    assert code == 1 and "keys init" in err and err.count("\n") == 1
    _cli(capsys, "--db", db, "keys", "init", "--as", "IN")
    code, _, err = _cli(capsys, "--db", db, "sync")
    assert code == 1 and "remote add" in err
    code, _, err = _cli(capsys, "--db", db, "remote", "add", "Bad Name", "x")
    assert code == 1 and "lower-case" in err
