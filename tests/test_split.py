"""`summit split`: one workspace per delegation, each with only its own internal material,
showing what the shared workspace showed, and the baseline each delegation's root confirms."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from conftest import TickingClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import records
from agenda.cli import main
from agenda.exchange import keys, sync
from agenda.model import Delegation
from agenda.split import baseline_status, split
from agenda.workspace import Workspace

FIXTURE = Path(__file__).parent / "fixtures" / "v010" / "workspace"
CODES = ("IN", "RU", "CH")


def _shared(path: Path) -> tuple[Workspace, str]:
    """A shared workspace: IN, RU and a chair, with internal drafts and notes of each side
    carrying a marker that names its delegation."""
    ws = Workspace(path, create=True, clock=TickingClock())
    slug = ws.create_summit("Shared summit", [Delegation("IN", "India"),
                                              Delegation("RU", "Russia")],
                            chair=Delegation("CH", "Chair")).slug
    ws.add_item(slug, section="1", title="Ports", text="Ports are open.", delegation="IN")
    ws.add_item(slug, section="2", title="Grain", text="Grain [flows].", delegation="RU")
    for code in ("IN", "RU"):
        ws.table(slug, "1.1", delegation=code, text=f"Internal MARK-{code}-DRAFT text.",
                 why=f"MARK-{code}-WHY", internal=True)
        ws.add_note(slug, "1.1", delegation=code, text=f"MARK-{code}-NOTE red line")
    ws.table(slug, "1.1", delegation="RU", text="Ports are open to all.")
    ws.accept(slug, "1.1", delegation="IN")
    ws.table(slug, "2.1", delegation="IN", text="Grain flows.", why="joint reason")
    ws.move_item(slug, "2.1", section="1")
    ws.table(slug, "1.2", delegation="IN", text=f"Again MARK-IN-DRAFT2 {'x' * 40}.",
             internal=True)
    return ws, slug


def _cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> str:
    capsys.readouterr()
    assert main(["--db", str(db), *argv]) in (0, None)
    return capsys.readouterr().out


def _views(capsys: pytest.CaptureFixture[str], db: Path, code: str) -> dict[str, str]:
    """What a delegation reads: its items, every history, brackets and the agenda export."""
    items = orjson.loads(_cli(capsys, db, "--as", code, "items", "--json"))
    shown = {"items": orjson.dumps(items).decode(),
             "brackets": _cli(capsys, db, "--as", code, "brackets", "--json"),
             "export": _cli(capsys, db, "--as", code, "export"),
             "brief": _cli(capsys, db, "--as", code, "export", "--template", "brief")}
    for item in items["items"] if isinstance(items, dict) else items:
        number = item["number"]
        shown[f"history {number}"] = _cli(capsys, db, "--as", code, "history", number,
                                         "--json")
    return shown


def _every_byte(root: Path, code: str) -> bytes:
    """Every file of a delegation's output (workspace, summits folder, keys, locks)."""
    return b"".join(p.read_bytes() for p in sorted(root.glob(f"{code}.*/**/*")) + sorted(
        root.glob(f"{code}.*")) if p.is_file())


def test_each_delegation_gets_its_own_material_and_the_same_views(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws, _ = _shared(tmp_path / "shared.json")
    before = {code: _views(capsys, ws.path, code) for code in CODES}
    source = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    _cli(capsys, ws.path, "split", "--out", str(out))
    assert {p: p.read_bytes() for p in source} == source  # the shared workspace is only read
    for code in CODES:
        db = out / f"{code}.json"
        assert _views(capsys, db, code) == before[code]
        assert "ok:" in _cli(capsys, db, "check")
        mine = _every_byte(out, code)
        for other in CODES:
            markers = [f"MARK-{other}-{kind}".encode() for kind in ("DRAFT", "WHY", "NOTE")]
            if other == code:
                assert code == "CH" or any(m in mine for m in markers)
            else:
                assert not any(m in mine for m in markers), (code, other)
    joint = [sorted(doc["id"] for doc in _stored(out / f"{code}.json") if
                    doc["record"]["scope"] == "joint") for code in CODES]
    assert joint[0] == joint[1] == joint[2]
    assert [_joint_bytes(out / f"{code}.json") for code in CODES].count(
        _joint_bytes(out / "IN.json")) == 3


def _stored(db: Path) -> list[dict[str, object]]:
    ws = Workspace(db)
    try:
        slug = ws.resolve_slug()
        return ws.stored(slug)[0]
    finally:
        ws.close()


def _joint_bytes(db: Path) -> bytes:
    return b"\n".join(sorted(records.canonical(doc) for doc in _stored(db)
                             if doc["record"]["scope"] == "joint"))  # type: ignore[index]


def test_a_0_1_workspace_splits_with_its_labels_and_exports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "old"
    shutil.copytree(FIXTURE, shared)
    db = shared / "workspace.json"
    ws = Workspace(db)
    slugs = [e.slug for e in ws.summits()]
    codes = sorted({c for slug in slugs for c in ws.summit(slug).codes})
    ws.close()
    before = {(slug, code): _views(capsys, db, code) if len(slugs) == 1 else
              {k: v for k, v in _views_in(capsys, db, slug, code).items()}
              for slug in slugs for code in codes if _party(db, slug, code)}
    raw = {p: p.read_bytes() for p in shared.rglob("*") if p.is_file()}
    report = split(Workspace(db), tmp_path / "out")
    assert {p: p.read_bytes() for p in raw} == raw  # still 0.1 on disk: nothing was migrated
    for (slug, code), shown in before.items():
        out = report.outputs[code].path
        assert _views_in(capsys, out, slug, code) == shown if len(slugs) > 1 else \
            _views(capsys, out, code) == shown


def _party(db: Path, slug: str, code: str) -> bool:
    ws = Workspace(db)
    try:
        return code in ws.summit(slug).codes
    finally:
        ws.close()


def _views_in(capsys: pytest.CaptureFixture[str], db: Path, slug: str,
              code: str) -> dict[str, str]:
    items = orjson.loads(_cli(capsys, db, "--summit", slug, "--as", code, "items", "--json"))
    shown = {"items": orjson.dumps(items).decode(),
             "export": _cli(capsys, db, "--summit", slug, "--as", code, "export")}
    for item in items["items"] if isinstance(items, dict) else items:
        shown[item["number"]] = _cli(capsys, db, "--summit", slug, "--as", code, "history",
                                     item["number"], "--json")
    return shown


def _refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 1


def test_split_refuses_a_folder_in_use_and_a_bound_workspace(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws, _ = _shared(tmp_path / "shared.json")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    _refused(["--db", str(ws.path), "split", "--out", str(busy)])
    err = capsys.readouterr().err
    assert "not an empty folder" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    _cli(capsys, ws.path, "split", "--out", str(tmp_path / "out"), "--keys")
    _refused(["--db", str(tmp_path / "out" / "IN.json"), "split", "--out",
              str(tmp_path / "again")])
    assert "bound to one delegation" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()


def test_keys_bind_each_output_and_the_baseline_is_confirmed_over_sync(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws, slug = _shared(tmp_path / "shared.json")
    out = tmp_path / "out"
    printed = _cli(capsys, ws.path, "split", "--out", str(out), "--keys")
    fingerprint = printed.split("baseline of shared-summit: ")[1].split()[0]
    outputs = {code: Workspace(out / f"{code}.json") for code in CODES}
    for code, one in outputs.items():
        assert one.identity() is not None and one.identity().home == code  # type: ignore[union-attr]
        assert "ok:" in _cli(capsys, one.path, "check")
        [(fp, have, missing)] = baseline_status(one, slug)
        assert fp == fingerprint and have == code and sorted(missing) == sorted(
            c for c in CODES if c != code)
    with pytest.raises(Exception, match="already bound"):
        from agenda.exchange import identity
        identity.init(outputs["IN"], "IN")
    # Writing after the split is signed; the other side's workspace checks it.
    outputs["RU"].table(slug, "1.1", delegation="RU", text="Ports are open, after the split.")
    remote = tmp_path / "joint.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    for one in outputs.values():
        sync.add_remote(one, "joint", str(remote))
    for _ in range(2):
        for one in outputs.values():
            sync.sync(one)
    for code, one in outputs.items():
        [(fp, have, missing)] = baseline_status(one, slug)
        assert (have, missing) == ("CH, IN, RU", []), code
        assert "ok:" in _cli(capsys, one.path, "check")
        assert "after the split" in _cli(capsys, one.path, "--as", code, "show", "1.1")
    assert "confirmed by CH, IN, RU" in _cli(capsys, out / "IN.json", "baseline")
    assert "nothing to sign" in _cli(capsys, out / "IN.json", "baseline", "sign")
    joint_objects = subprocess.run(["git", "-C", str(remote), "cat-file", "--batch-all-objects",
                                    "--batch"], capture_output=True, check=True).stdout
    assert b"MARK-" not in joint_objects


def test_a_record_slipped_under_the_baseline_is_not_covered(tmp_path: Path) -> None:
    ws, slug = _shared(tmp_path / "shared.json")
    report = split(ws, tmp_path / "out", keyed=True)
    one = Workspace(report.outputs["IN"].path)
    decoded = [records.decode(doc) for doc in one.stored(slug)[0]]
    pinned = one.pinned()
    assert not keys.signature_problems(decoded, pinned)
    # An unsigned joint record that was not in the baseline's past, and one more IN draft
    # than IN's root vouched for: both are "not signed", nothing else changes.
    last = max(decoded, key=records.order_key)
    common = {"summit": last.summit, "author": "IN", "lamport": last.lamport + 1,
              "deps": [last.id], "created": last.created}
    slipped = records.make(kind=records.ITEM_RETITLE, scope="joint",
                           body={"item": "x", "title": "t"}, **common)  # type: ignore[arg-type]
    extra_draft = records.make(kind=records.REVISION, scope="team:IN",
                               body={"item": "x", "code": "MOD", "text": "t"},
                               **common)  # type: ignore[arg-type]
    named = {r.id for r, _ in keys.signature_problems([*decoded, slipped], pinned)}
    assert named == {slipped.id}
    # One more IN draft than IN's root vouched for: the root no longer matches, so none of
    # IN's unsigned drafts counts any more.
    named = {r.id for r, _ in keys.signature_problems([*decoded, extra_draft], pinned)}
    drafts = {r.id for r in decoded if r.scope == "team:IN" and r.sig is None}
    assert drafts and named == drafts | {extra_draft.id}
    one.close()


@given(st.lists(st.text("0123456789abcdef", min_size=64, max_size=64), unique=True,
                max_size=40), st.data())
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_merkle_root_names_exactly_its_set(ids: list[str], data: st.DataObject) -> None:
    root = keys.merkle_root(sorted(ids))
    assert root == keys.merkle_root(sorted(ids))
    if ids:
        dropped = data.draw(st.sampled_from(ids))
        assert keys.merkle_root(sorted(set(ids) - {dropped})) != root
    extra = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    if extra not in ids:
        assert keys.merkle_root(sorted([*ids, extra])) != root


ACTS = st.lists(st.tuples(st.sampled_from(["table", "draft", "note", "accept"]),
                          st.sampled_from(["IN", "RU"]), st.integers(0, 1)),
                min_size=1, max_size=8)


@given(ACTS)
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_history_splits_into_the_same_views(
        tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str],
        acts: list[tuple[str, str, int]]) -> None:
    root = tmp_path_factory.mktemp("any")
    ws = Workspace(root / "shared.json", create=True, clock=TickingClock())
    slug = ws.create_summit("S", [Delegation("IN", "India"), Delegation("RU", "Russia")]).slug
    ws.add_item(slug, section="1", title="A", text="A.", delegation="IN")
    ws.add_item(slug, section="1", title="B", text="B.", delegation="RU")
    for n, (act, code, which) in enumerate(acts):
        number = f"1.{which + 1}"
        if act == "table":
            ws.table(slug, number, delegation=code, text=f"Text {n}.")
        elif act == "draft":
            ws.table(slug, number, delegation=code, text=f"SECRET-{code} {n}.", internal=True)
        elif act == "note":
            ws.add_note(slug, number, delegation=code, text=f"SECRET-{code} note {n}")
        else:
            try:
                ws.accept(slug, number, delegation=code)
            except Exception:  # noqa: BLE001 - accepting one's own text is refused: fine
                pass
    before = {code: _views(capsys, ws.path, code) for code in ("IN", "RU")}
    report = split(ws, root / "out")
    for code, other in (("IN", "RU"), ("RU", "IN")):
        assert _views(capsys, report.outputs[code].path, code) == before[code]
        assert f"SECRET-{other}".encode() not in _every_byte(root / "out", code)


def test_a_split_that_fails_half_way_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import agenda.split

    ws, _ = _shared(tmp_path / "shared.json")
    real, calls = agenda.split._install, []

    def failing(*args: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(agenda.split, "_install", failing)
    with pytest.raises(OSError):
        split(ws, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "shared.json", "shared.json.lock", "shared.json.lock.d", "shared.summits"]
    monkeypatch.setattr(agenda.split, "_install", real)
    report = split(ws, tmp_path / "out")
    assert sorted(report.outputs) == ["CH", "IN", "RU"]
    assert all(o.path.parent == tmp_path / "out" and o.path.exists()
               for o in report.outputs.values())


def test_a_split_killed_at_any_moment_leaves_no_half_written_folder(tmp_path: Path) -> None:
    """SIGKILL during `summit split --keys`: DIR is either absent or complete, the shared
    workspace is untouched, and a new split after the kill succeeds."""
    import random
    import subprocess
    import sys
    import time

    from agenda.integrity import check

    ws, _ = _shared(tmp_path / "shared.json")
    ws.close()
    source = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
              and not p.name.endswith(".lock")}
    chance = random.Random(38)
    killed = 0
    for trial in range(4):
        out = tmp_path / f"out{trial}"
        process = subprocess.Popen(
            [sys.executable, "-m", "agenda", "--db", str(tmp_path / "shared.json"), "split",
             "--keys", "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.05, 0.45))
        if process.poll() is None:
            process.kill()
            killed += 1
        process.wait()
        if out.exists():
            for code in CODES:
                done = Workspace(out / f"{code}.json")
                assert done.identity() is not None and check(done) == []
                done.close()
        else:
            report = split(Workspace(tmp_path / "shared.json"), out, keyed=True)
            assert sorted(report.outputs) == sorted(CODES)
    assert killed, "no split was killed mid-way; the delays are too long for this machine"
    assert {p: p.read_bytes() for p in source} == source


def test_binding_after_a_plain_split_asks_for_the_baseline_signature(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws, _ = _shared(tmp_path / "shared.json")
    printed = _cli(capsys, ws.path, "split", "--out", str(tmp_path / "out"))
    assert "baseline sign" in printed and "keys init --as CODE" in printed
    db = tmp_path / "out" / "IN.json"
    _cli(capsys, db, "keys", "init", "--as", "IN")
    with pytest.raises(SystemExit):
        main(["--db", str(db), "check"])
    out = capsys.readouterr().out
    assert "not signed" in out and "`summit baseline sign`" in out
    assert "MARK-IN" not in out and "MARK-RU" not in out  # names, never the texts
    assert "signed the baseline of shared-summit" in _cli(capsys, db, "baseline", "sign")
    assert "ok:" in _cli(capsys, db, "check")
    assert "not yet confirmed by RU, CH" in _cli(capsys, db, "baseline")
