"""Sync over git: delegations converge, internal material stays home, tampering is refused."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TickingClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import records
from agenda.cli import main
from agenda.exchange import identity, keys, packets, sync
from agenda.exchange.git import Git
from agenda.model import AgendaError, Delegation, Status
from agenda.workspace import Workspace


class World:
    """Bound workspaces of several delegations, a joint remote and team remotes, in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.joint = self.bare("joint.git")
        self.team: dict[str, Path] = {}
        self.spaces: dict[str, Workspace] = {}
        self.cards: dict[str, tuple[dict[str, Any], str]] = {}

    def bare(self, name: str) -> Path:
        path = self.root / name
        subprocess.run(["git", "init", "--bare", "-q", str(path)], check=True)
        return path

    def delegation(self, name: str, code: str) -> Workspace:
        """A first machine of a delegation: its root key, bound, with the joint remote."""
        ws = Workspace(self.root / name / "ws.json", create=True, clock=TickingClock())
        fp = identity.init(ws, code)
        self.cards[code] = (identity.card(ws), fp)
        sync.add_remote(ws, "joint", self.joint.as_uri())
        self.spaces[name] = ws
        return ws

    def officer(self, name: str, first: str) -> Workspace:
        """A second machine of `first`'s delegation, certified by its root, on its team remote."""
        root_ws = self.spaces[first]
        code = root_ws.identity().home
        ws = Workspace(self.root / name / "ws.json", create=True, clock=TickingClock())
        request = identity.enrol(ws, code)
        identity.install(ws, identity.certify(root_ws, request))
        if code not in self.team:
            self.team[code] = self.bare(f"team-{code}.git")
            sync.add_remote(root_ws, "team", str(self.team[code]), team=True)
        sync.add_remote(ws, "team", str(self.team[code]), team=True)
        self.spaces[name] = ws
        return ws

    def trust_all(self) -> None:
        for ws in self.spaces.values():
            home = ws.identity().home
            for code, (card, fp) in self.cards.items():
                if code != home:
                    identity.trust(ws, card, fp)

    def sync(self, name: str) -> sync.Report:
        return sync.sync(self.spaces[name])

    def drain(self, order: list[str] | None = None) -> None:
        """Sync everyone until nothing moves (three rounds reach everyone through relays)."""
        for _ in range(3):
            for name in order or sorted(self.spaces):
                report = self.sync(name)
                assert not report.refused, report.refused

    def close(self) -> None:
        for ws in self.spaces.values():
            ws.close()


def new_summit(ws: Workspace, *codes: str) -> str:
    names = {"IN": "India", "RU": "Russia", "JP": "Japan"}
    entry = ws.create_summit("Summit", [Delegation(c, names[c]) for c in codes],
                             sections=["Trade", "Health"])
    return entry.slug


def joint_view(ws: Workspace) -> Any:
    """Everything a party sees of the joint record: the ids, items, statuses and histories."""
    (entry,) = ws.summits()
    stored, _ = ws.stored(entry.slug)
    ids = sorted(d["id"] for d in stored if d["record"]["scope"] == "joint")
    state = ws.state(entry.slug, None)
    items = [(i.number, i.title, i.status.value,
              [(r.label, r.id, r.delegation, r.text) for r in state.history(i)])
             for i in state.items]
    return ids, items


def team_view(ws: Workspace, code: str) -> Any:
    (entry,) = ws.summits()
    state = ws.state(entry.slug, code)
    return [(i.number, [(r.id, r.text) for r in state.history(i)],
             [n.text for n in state.item_notes(i)]) for i in state.items]


def remote_bytes(repo: Path) -> bytes:
    """Every object of a repository (packed, loose, unreachable), its ref names and logs."""
    objects = subprocess.run(["git", f"--git-dir={repo}", "cat-file", "--batch-all-objects",
                              "--batch"], capture_output=True, check=True).stdout
    refs = subprocess.run(["git", f"--git-dir={repo}", "for-each-ref"], capture_output=True,
                          check=True).stdout
    return objects + refs


@pytest.fixture
def world(tmp_path: Path) -> Any:
    w = World(tmp_path)
    yield w
    w.close()


def test_two_delegations_converge_and_internal_material_stays_home(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports [by 2030].",
                   delegation="IN", why="JUSTIFY-IN-1")
    india.table(slug, "1.1", delegation="IN", text="DRAFT-IN-1 ports", internal=True)
    india.add_note(slug, "1.1", delegation="IN", text="NOTE-IN-1")
    world.sync("in")
    report = world.sync("ru")
    assert report.joined == [slug] and not report.refused
    (rslug,) = [e.slug for e in russia.summits()]
    russia.table(rslug, "1.1", delegation="RU", text="Ports by 2031.", why="Our reason")
    russia.table(rslug, "1.1", delegation="RU", text="DRAFT-RU-1", internal=True)
    world.drain()
    assert joint_view(india) == joint_view(russia)
    assert [r.delegation for r in india.state(slug).history(india.state(slug).items[0])] == \
        ["IN", "RU"]
    assert rslug == slug
    # (The agenda export is left out: its "Text as of" comes from the local event log.)
    for command in (["items", "--json"], ["history", "1.1", "--json"], ["brackets", "--json"]):
        outputs = []
        for ws in (india, russia):
            try:
                main(["--db", str(ws.path), *command])
            except SystemExit as exit_:
                assert not exit_.code
            outputs.append(capsys.readouterr().out)
        assert outputs[0] == outputs[1] and outputs[0], command
    seen = remote_bytes(world.joint)
    for marker in (b"DRAFT-IN-1", b"NOTE-IN-1", b"DRAFT-RU-1"):
        assert marker not in seen
    assert b"JUSTIFY-IN-1" in seen  # a tabled text's justification is tabled with it
    import stat

    assert stat.S_IMODE(sync.exchange_dir(india).stat().st_mode) == 0o700
    russia_files = b"".join(p.read_bytes() for p in (world.root / "ru").rglob("*")
                            if p.is_file())
    assert b"DRAFT-IN-1" not in russia_files and b"NOTE-IN-1" not in russia_files


def test_sync_twice_changes_nothing(world: World) -> None:
    india = world.delegation("in", "IN")
    world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    world.drain()
    files = sorted(p for p in world.root.rglob("*") if p.is_file() and "objects" not in p.parts
                   and not p.name.endswith(".lock") and p.name != "FETCH_HEAD"
                   and p.name != sync.STATE_FILE)  # when it last synced: a local log
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in files}
    refs = {repo: Git(repo).refs("refs/") for repo in (world.joint,)}
    for name in ("in", "ru"):
        report = world.sync(name)
        assert report.lines() == ["nothing new"]
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in files} == before
    assert {repo: Git(repo).refs("refs/") for repo in (world.joint,)} == refs


def test_a_second_officer_shares_internal_material_through_the_team_remote(
        world: World) -> None:
    india_a = world.delegation("in-a", "IN")
    world.delegation("ru", "RU")
    india_b = world.officer("in-b", "in-a")
    world.trust_all()
    slug = new_summit(india_a, "IN", "RU")
    india_a.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    india_a.table(slug, "1.1", delegation="IN", text="DRAFT-A", internal=True)
    world.sync("in-a")
    report = world.sync("in-b")
    assert report.joined and not report.refused
    (bslug,) = [e.slug for e in india_b.summits()]
    india_b.add_note(bslug, "1.1", delegation="IN", text="NOTE-B")
    india_b.table(bslug, "1.1", delegation="IN", text="Ports, tabled by officer B.")
    world.drain(["in-b", "in-a", "ru"])
    assert team_view(india_a, "IN") == team_view(india_b, "IN")
    assert joint_view(india_a) == joint_view(india_b) == joint_view(world.spaces["ru"])
    seen = remote_bytes(world.joint)
    assert b"DRAFT-A" not in seen and b"NOTE-B" not in seen
    assert b"NOTE-B" in remote_bytes(world.team["IN"])


OPS = st.lists(st.tuples(st.sampled_from(["table", "draft", "note", "accept", "retitle",
                                          "move", "defer", "sync", "sync", "packet"]),
                         st.sampled_from(["in-a", "in-b", "ru"]),
                         st.integers(0, 1)),
               min_size=1, max_size=12)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS, order=st.permutations(["in-a", "in-b", "ru"]))
def test_convergence_whatever_the_order_of_syncs(ops: list[tuple[str, str, int]],
                                                 order: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            _convergence(world, ops, order)
        finally:
            world.close()


def _convergence(world: World, ops: list[tuple[str, str, int]], order: list[str]) -> None:
    india_a = world.delegation("in-a", "IN")
    world.delegation("ru", "RU")
    world.officer("in-b", "in-a")
    world.trust_all()
    slug = new_summit(india_a, "IN", "RU")
    india_a.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    india_a.add_item(slug, section="Health", title="Vaccines", text="Vaccines.",
                     delegation="IN")
    world.drain(["in-a", "in-b", "ru"])
    markers: list[str] = []
    packet_bytes: list[bytes] = []
    for step, (op, name, which) in enumerate(ops):
        ws = world.spaces[name]
        code = ws.identity().home
        (entry,) = ws.summits()
        item = ws.state(entry.slug).items[which].uuid
        marker = f"SECRET-{name}-{step}"
        if op == "sync":
            world.sync(name)
        elif op == "table":
            ws.table(entry.slug, item, delegation=code, text=f"Text {name} {step}.")
        elif op == "draft":
            ws.table(entry.slug, item, delegation=code, text=marker, internal=True)
            markers.append(marker)
        elif op == "note":
            ws.add_note(entry.slug, item, delegation=code, text=marker)
            markers.append(marker)
        elif op == "accept":
            try:
                ws.accept(entry.slug, item, delegation=code)
            except Exception:  # noqa: BLE001 - nothing to accept is a legal outcome here
                pass
        elif op == "retitle":
            ws.retitle_item(entry.slug, item, f"Title {name} {step}")
        elif op == "move":
            ws.move_item(entry.slug, item, section="Trade" if which else "Health", position=1)
        elif op == "defer":
            try:
                ws.set_status(entry.slug, item, Status.DEFERRED, actor=code)
            except AgendaError:  # already deferred, or final: a legal refusal
                pass
        elif op == "packet":
            receiver = "in-a" if code == "RU" else "ru"
            packet = world.root / f"packet-{step}.summit"
            packets.send(ws, "IN" if code == "RU" else "RU", packet, encrypt=False)
            packet_bytes.append(_packet_contents(packet))
            report = packets.receive(world.spaces[receiver], packet)
            assert not report.refused, report.refused
    world.drain(order)
    views = [joint_view(world.spaces[name]) for name in order]
    assert views[0] == views[1] == views[2]
    assert team_view(world.spaces["in-a"], "IN") == team_view(world.spaces["in-b"], "IN")
    seen = remote_bytes(world.joint) + b"".join(packet_bytes)
    for marker in markers:
        assert marker.encode() not in seen


def _packet_contents(path: Path) -> bytes:
    """Every byte of a packet, its zip members inflated."""
    raw = path.read_bytes()
    zipped = raw.split(b"\n", 2)[2]
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        return raw + b"".join(archive.read(n) for n in archive.namelist())


# Tampering ---------------------------------------------------------------------------------

def _forge(ws: Workspace, slug: str, *, author: str | None = None, lamport_shift: int = 0,
           extra_deps: tuple[str, ...] = (), text: str = "Forged.") -> records.Record:
    """A record as `ws`'s device would sign it, bent as asked."""
    ident = ws.identity()
    (item,) = ws.state(slug).items[:1]
    stored, _ = ws.stored(slug)
    every = [records.decode(d) for d in stored]
    joint = [r for r in every if r.joint]
    deps = {*records.heads(joint), *extra_deps}
    lamport = 1 + max(r.lamport for r in every if r.id in deps)
    record = records.make(kind=records.REVISION, summit=every[0].id, scope=records.JOINT,
                          author=author or ident.home, lamport=lamport + lamport_shift,
                          deps=sorted(deps), created="2021-01-01T00:00:00Z",
                          body={"item": item.uuid, "code": "MOD", "text": text,
                                "justification": "", "parents": []},
                          signer=ident.device)
    return ident.sign(record)


def _plant(repo: Path, ref: str, docs: list[Any], replace: bool = False) -> None:
    git = Git(repo)
    tip = git.refs(ref).get(ref)
    files = {f"{d['id']}.json": orjson.dumps(d, option=orjson.OPT_SORT_KEYS) for d in docs}
    git.append_commit(ref, tip, files, "XX", "0" * 32, 1_600_000_000)


def test_tampered_records_are_refused_and_the_rest_imported(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    world.drain()
    (rslug,) = [e.slug for e in russia.summits()]
    ru = russia.identity()
    sid = records.decode(russia.stored(rslug)[0][0]).id
    ru_ref = f"refs/joint/{sid}/RU/{ru.device}"
    # Forged first, so that none of them depends on the record rewritten below.
    claim = _forge(india, slug, author="RU", text="Claimed for RU.")  # RU, by an IN device
    wrong = _forge(russia, rslug, lamport_shift=5, text="Clock inflated.")
    russia.table(rslug, "1.1", delegation="RU", text="DRAFT-RU", internal=True)
    draft = next(records.decode(d) for d in russia.stored(rslug)[0]
                 if d["record"]["scope"] == "team:RU")
    leaky = _forge(russia, rslug, extra_deps=(draft.id,), text="Leaky.")  # joint on team
    fine = _forge(russia, rslug, text="A fine text.")
    russia.table(rslug, "1.1", delegation="RU", text="Russia's honest text.")
    sync.sync(russia)
    # A record of RU's rewritten in the remote: same file name, altered text, fast-forward.
    git = Git(world.joint)
    honest = git.tree_files(ru_ref)
    victim = next(name for name in honest
                  if b"honest" in git.read_blobs([honest[name]])[honest[name]])
    doc = orjson.loads(git.read_blobs([honest[victim]])[honest[victim]])
    doc["record"]["body"]["text"] = "Russia's altered text."
    git.append_commit(ru_ref, git.refs(ru_ref)[ru_ref],
                      {victim: orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)}, "RU",
                      ru.device, 1_600_000_000)
    _plant(world.joint, f"refs/joint/{sid}/RU/{india.identity().device}",
           [records.encode(claim)])
    _plant(world.joint, ru_ref, [records.encode(r) for r in (wrong, leaky, fine)])
    report = world.sync("in")
    text = "\n".join(report.refused)
    assert len(report.refused) == 3, text
    assert "altered" in text
    assert "claims to be RU's but is signed by a IN device" in text
    assert "its clock says" in text
    # India cannot tell a dep on RU's internal draft from one not received yet: it waits,
    # and is never imported (RU's own workspace refuses it outright: the test below).
    assert report.pending == 1
    stored = india.stored(slug)[0]
    ids = {d["id"] for d in stored}
    assert fine.id in ids
    assert not ids & {claim.id, wrong.id, leaky.id}
    assert all(b"altered" not in orjson.dumps(d) for d in stored)
    # The bad ref is not accepted: the next sync refuses again, and imports nothing twice.
    again = world.sync("in")
    assert len(again.refused) == 3 and again.pending == 1 and not again.imported.get(slug)
    # On the command line: one line per refused record, naming it, and exit 1.
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(india.path), "sync"])
    err = capsys.readouterr().err.splitlines()
    assert exit_.value.code == 1 and len(err) == 3
    assert all(line.startswith("summit: refused: joint: record ") for line in err)


def test_a_joint_record_may_not_depend_on_a_team_record(world: World) -> None:
    world.delegation("ru", "RU")
    russia = world.spaces["ru"]
    india = world.delegation("in", "IN")
    world.trust_all()
    slug = new_summit(russia, "IN", "RU")
    russia.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="RU")
    russia.table(slug, "1.1", delegation="RU", text="DRAFT", internal=True)
    draft = next(records.decode(d) for d in russia.stored(slug)[0]
                 if d["record"]["scope"] == "team:RU")
    leaky = _forge(russia, slug, extra_deps=(draft.id,))
    _, refused = russia.import_records(slug, [records.encode(leaky)])
    assert refused and "internal material" in refused[0]
    assert india.summits() == []


def test_the_border_guard_refuses_internal_material_for_a_joint_remote(world: World) -> None:
    india = world.delegation("in", "IN")
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    india.table(slug, "1.1", delegation="IN", text="DRAFT-GUARD", internal=True)
    draft = next(d for d in india.stored(slug)[0] if d["record"]["scope"] == "team:IN")
    local = sync.local_git(india)
    local.init()
    sid = draft["record"]["summit"]
    _plant(local.git_dir, f"refs/joint/{sid}/IN/{india.identity().device}", [draft])
    with pytest.raises(sync.SyncError, match="Border guard"):
        sync.sync(india)
    assert Git(world.joint).refs("refs/") == {}
    assert b"DRAFT-GUARD" not in remote_bytes(world.joint)


def test_a_summit_from_an_unpinned_delegation_is_not_joined(world: World) -> None:
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    sync.sync(india)
    report = sync.sync(russia)
    assert russia.summits() == []
    assert any("not pinned" in line for line in report.refused)


def test_a_summit_without_the_home_delegation_is_not_joined(world: World) -> None:
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    names = {"IN": "India", "JP": "Japan"}
    india.create_summit("Other", [Delegation(c, n) for c, n in names.items()])
    sync.sync(india)
    report = sync.sync(russia)
    assert russia.summits() == [] and not report.refused
    assert len(russia.exchange_get("foreign")) == 1  # not read again at the next sync
    india.add_item("other", section="1", title="Ports", text="Ports.", delegation="IN")
    sync.sync(india)
    assert sync.sync(russia).lines() == ["nothing new"] and russia.summits() == []


def test_check_verifies_signatures(world: World) -> None:
    from agenda.integrity import check, check_summit

    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    assert check(india) == []
    stored, events = india.stored(slug)
    forged = [dict(d) for d in stored]
    forged[-1] = {**forged[-1], "sig": keys.b64(b"\0" * 64)}
    problems = check_summit(slug, forged, events, pinned=india.pinned())
    assert [p.message for p in problems] == [
        "its signature does not match (altered after signing)"]
    # Russia has not pinned anything of India's own devices beyond the root: still verifiable.
    assert check_summit(slug, stored, events, pinned=russia.pinned()) == []


def test_a_revoked_device_no_longer_counts(world: World) -> None:
    india_a = world.delegation("in-a", "IN")
    russia = world.delegation("ru", "RU")
    india_b = world.officer("in-b", "in-a")
    world.trust_all()
    slug = new_summit(india_a, "IN", "RU")
    india_a.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    world.drain(["in-a", "in-b", "ru"])
    (bslug,) = [e.slug for e in india_b.summits()]
    india_b.table(bslug, "1.1", delegation="IN", text="Before the revocation.")
    world.drain(["in-b", "in-a", "ru"])
    device, count = identity.revoke(india_a, india_b.identity().device[:8])
    assert count == 1 and device == india_b.identity().device
    world.drain(["in-a", "ru"])
    india_b.table(bslug, "1.1", delegation="IN", text="After the revocation (stolen key).")
    sync.sync(india_b)
    report = sync.sync(india_a)
    assert len(report.refused) == 1 and "revoked" in report.refused[0]
    sync.sync(russia)
    texts = [r.text for r in russia.state(slug).history(russia.state(slug).items[0])]
    assert "Before the revocation." in texts
    assert not any("stolen" in t for t in texts)
    from agenda.integrity import check

    assert check(india_a) == [] and check(russia) == []
    with pytest.raises(Exception, match="own device"):
        identity.revoke(india_a, india_a.identity().device)


def test_sync_over_the_network_with_git_daemon(world: World) -> None:
    """The same sync through git's own network protocol, served on 127.0.0.1."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
         f"--base-path={world.root}", "--listen=127.0.0.1", f"--port={port}", str(world.root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"git://127.0.0.1:{port}/joint.git"
        for _ in range(100):  # until the daemon answers
            if subprocess.run(["git", "ls-remote", url], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        india = Workspace(world.root / "in" / "ws.json", create=True, clock=TickingClock())
        russia = Workspace(world.root / "ru" / "ws.json", create=True, clock=TickingClock())
        world.spaces.update({"in": india, "ru": russia})
        fp_in, fp_ru = identity.init(india, "IN"), identity.init(russia, "RU")
        identity.trust(india, identity.card(russia), fp_ru)
        identity.trust(russia, identity.card(india), fp_in)
        for ws in (india, russia):
            sync.add_remote(ws, "joint", url)
        slug = new_summit(india, "IN", "RU")
        india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
        assert sync.sync(india).pushed == ["joint"]
        assert sync.sync(russia).joined == [slug]
        russia.table(slug, "1.1", delegation="RU", text="Ports by 2031.")
        sync.sync(russia)
        sync.sync(india)
        assert joint_view(india) == joint_view(russia)
    finally:
        # `git daemon` runs git-daemon as its child: killing `git` alone left that child
        # serving after the test, so the whole session goes.
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()


def test_demo_pair_builds_two_delegations_and_a_remote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agenda.integrity import check

    main(["demo", "--pair", str(tmp_path / "pair")])
    assert "India's workspace" in capsys.readouterr().out
    india = Workspace(tmp_path / "pair" / "IN.json")
    russia = Workspace(tmp_path / "pair" / "RU.json")
    try:
        assert joint_view(india) == joint_view(russia)
        assert check(india) == [] and check(russia) == []
        russia_bytes = b"".join(p.read_bytes() for p in (tmp_path / "pair").rglob("RU.*/**/*")
                                if p.is_file()) + russia.path.read_bytes()
        assert b"Red line" not in russia_bytes and b"inclusive Indo-Pacific" not in russia_bytes
        assert b"Red line" not in remote_bytes(tmp_path / "pair" / "joint.git")
        # Russia's workspace writes only as Russia, by default too.
        with pytest.raises(SystemExit) as exit_:
            main(["--db", str(russia.path), "table", "1.1", "--as", "IN", "--text", "x"])
        assert exit_.value.code == 1
        main(["--db", str(russia.path), "table", "2.1", "--text", "A new text [2025]."])
        assert russia.state(russia.summits()[0].slug).history(
            russia.state(russia.summits()[0].slug).items[1])[-1].delegation == "RU"
    finally:
        india.close()
        russia.close()
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--pair", str(tmp_path / "pair")])
    assert exit_.value.code == 1


def test_a_lost_local_repository_is_rebuilt_by_the_next_sync(world: World) -> None:
    import shutil

    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    sync.sync(india)
    shutil.rmtree(sync.exchange_dir(india))
    india.table(slug, "1.1", delegation="IN", text="Written after the loss.")
    sync.sync(india)
    sync.sync(russia)
    assert joint_view(india) == joint_view(russia)


def test_one_remote_down_does_not_stop_the_others(world: World) -> None:
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    sync.add_remote(india, "broken", (world.root / "missing.git").as_uri())
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    report = sync.sync(india)
    assert report.pushed == ["joint"]
    assert len(report.refused) == 1 and "cannot fetch from broken" in report.refused[0]
    assert sync.sync(russia).joined == [slug]
    with pytest.raises(sync.GitError, match="cannot fetch from broken"):
        sync.sync(india, "broken")


def test_joint_records_are_the_same_bytes_with_or_without_internal_drafting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Joint clocks never count internal material, so the other side learns nothing from
    them: the same joint acts give byte-identical signed records (Ed25519 is deterministic)."""
    import shutil
    from datetime import UTC, datetime

    def still() -> datetime:
        return datetime(2021, 12, 6, 10, 0, tzinfo=UTC)

    first = Workspace(tmp_path / "a" / "ws.json", create=True, clock=still)
    identity.init(first, "IN")
    first.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same machine, twice
    joint_docs = []
    import itertools

    import agenda.workspace

    for name, drafting in (("a", False), ("b", True)):
        counter = itertools.count()  # section uuids are random: make them the same twice
        monkeypatch.setattr(agenda.workspace, "new_uuid", lambda c=counter: f"uuid-{next(c)}")
        ws = Workspace(tmp_path / name / "ws.json", clock=still)
        slug = ws.create_summit("S", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                                sections=["Trade"]).slug
        ws.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
        for n in range(3):
            if drafting:
                ws.table(slug, "1.1", delegation="IN", text=f"DRAFT {n}", internal=True)
                ws.add_note(slug, "1.1", delegation="IN", text=f"NOTE {n}")
            ws.table(slug, "1.1", delegation="IN", text=f"Tabled {n}.")
        ws.retitle_item(slug, "1.1", "Ports and harbours")
        joint_docs.append([orjson.dumps(d, option=orjson.OPT_SORT_KEYS)
                           for d in ws.stored(slug)[0] if d["record"]["scope"] == "joint"])
        ws.close()
    assert joint_docs[0] == joint_docs[1]


def test_every_summit_is_exchanged(world: World) -> None:
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    for n in range(3):
        slug = india.create_summit(f"Summit {n}", [Delegation("IN", "India"),
                                                   Delegation("RU", "Russia")],
                                   sections=["Trade"]).slug
        india.add_item(slug, section="Trade", title="Ports", text=f"Ports {n}.",
                       delegation="IN")
    world.drain()
    assert sorted(e.slug for e in russia.summits()) == sorted(e.slug for e in india.summits())
    for entry in india.summits():
        assert russia.stored(entry.slug)[0] == [
            d for d in india.stored(entry.slug)[0] if d["record"]["scope"] == "joint"]
    india.table("summit-1", "1.1", delegation="IN", text="Only the second summit moves.")
    world.drain()
    assert len(russia.stored("summit-1")[0]) == len(india.stored("summit-1")[0])


def test_a_copied_workspace_writing_as_the_same_device_raises_the_alarm(
        world: World) -> None:
    import shutil

    india = world.delegation("in", "IN")
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    sync.sync(india)
    shutil.copytree(world.root / "in", world.root / "copy")
    copy = Workspace(world.root / "copy" / "ws.json", clock=TickingClock())
    world.spaces["copy"] = copy
    india.table(slug, "1.1", delegation="IN", text="Written on the original.")
    # Exported by the original but not pushed yet (say the network was down) ...
    sync.export(india, sync.local_git(india), india.identity(), sync.Report())
    # ... while the copy writes as the same device and pushes first: the refs diverge.
    copy.table(slug, "1.1", delegation="IN", text="Written on the copy.")
    sync.sync(copy)
    report = sync.sync(india)
    assert any("did not write" in line for line in report.refused)
    remote = Git(world.joint)
    ref = next(name for name in remote.refs("refs/joint/") if "/IN/" in name)
    assert any(b"copy" in raw for raw in remote.read_blobs(
        remote.tree_files(remote.refs(ref)[ref]).values()).values())  # nothing overwritten


def test_the_sync_line_says_when_and_what(tmp_path: Path) -> None:
    from datetime import timedelta

    from agenda.exchange.pair import SLUG, build_pair
    from agenda.model import from_iso

    unbound = Workspace(tmp_path / "plain.json", create=True)
    assert sync.status_line(unbound, datetime.now(UTC)) == ""
    paths = build_pair(tmp_path / "pair")
    india, russia = Workspace(paths["IN"]), Workspace(paths["RU"])
    russia.table(SLUG, "1.1", delegation="RU", text="One.")
    russia.table(SLUG, "2.1", delegation="RU", text="Two.")
    sync.sync(russia)
    report = sync.sync(india)
    assert report.tabled == {"RU": 2}
    state = orjson.loads((sync.exchange_dir(india) / sync.STATE_FILE).read_bytes())
    at = from_iso(state["at"])
    assert sync.status_line(india, at) == "synced just now · RU tabled 2 texts"
    assert sync.status_line(india, at + timedelta(minutes=2, seconds=5)).startswith(
        "synced 2 min ago")
    assert sync.status_line(india, at + timedelta(days=3)).startswith("synced 3 days ago")
    assert sync.sync(india).tabled == {}
    assert sync.status_line(india, at) == "synced just now"
    (sync.exchange_dir(india) / sync.STATE_FILE).write_bytes(b"{not json")
    assert sync.status_line(india, at) == "not synced yet"
    india.exchange_put("remotes", {})
    assert sync.status_line(india, at) == "no remote"
