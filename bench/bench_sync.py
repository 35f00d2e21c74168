"""Benchmark `summit sync` and packets against plain git doing the same transport, same run.

Run:  python bench/bench_sync.py                         (5 summits × 200 revisions)
      python bench/bench_sync.py --summits 100 --revisions 1000   (the issue's scale; long)

Two bound workspaces (IN, RU) and a bare joint remote are built in a temporary folder. The
first summit is written through the public Workspace API, so its records are what real use
writes; the others are that summit's records re-made with the codec for a new genesis (every
id, dependency and reference remapped, every record re-signed by IN's device), which builds
100 × 1,000 in seconds rather than hours. Then:

* first sync: RU, a new machine, fetches, verifies and imports everything; beside it, a plain
  `git fetch` of the same refs into an empty repository (the transport alone).
* idle sync: `sync` with nothing new on either side (target < 0.5 s), interleaved with the
  reference: a plain `git fetch` + `git push` of the same refs with nothing new. Medians.
* 30 new records each way (target < 1 s each): IN tables 30 texts and syncs (export + push);
  RU syncs (fetch + verify + import). Reference: plain git committing 30 files with
  fast-import and pushing them, and fetching them on the other side.
* full signature check: `summit check` of IN's workspace with signatures beside the same
  check without them (what the signatures add).
* tabling: one MOD in a bound workspace (signed) beside an unbound one, interleaved.
* packets, JSON (today) against a git bundle (EXCHANGE.md 3.6), full and with 30 new
  records: size and time to build, each interleaved, medians.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from agenda import records  # noqa: E402
from agenda.exchange import identity, keys, packets, sync  # noqa: E402
from agenda.integrity import check_summit  # noqa: E402
from agenda.model import Delegation  # noqa: E402
from agenda.split import _install  # noqa: E402
from agenda.workspace import SummitEntry, Workspace  # noqa: E402

RUNS = 7


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def git(*args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], input=stdin, capture_output=True,
                          check=True).stdout


def build(root: Path, summits: int, revisions: int) -> tuple[Workspace, Workspace, Path]:
    remote = root / "joint.git"
    git("init", "--bare", "-q", str(remote))
    india = Workspace(root / "in" / "ws.json", create=True)
    russia = Workspace(root / "ru" / "ws.json", create=True)
    fp_in, fp_ru = identity.init(india, "IN"), identity.init(russia, "RU")
    identity.trust(india, identity.card(russia), fp_ru)
    identity.trust(russia, identity.card(india), fp_in)
    for ws in (india, russia):
        sync.add_remote(ws, "joint", remote.as_uri())
    def sentence_of(subject: int, year: int) -> str:
        return f"The Sides agree to deepen cooperation in the field of {subject} [by {year}]. " * 8

    slug = india.create_summit("Summit 0", [Delegation("IN", "India"),
                                            Delegation("RU", "Russia")],
                               slug="summit-0", sections=["Trade"]).slug
    items = max(1, revisions // 20)
    for i in range(items):
        india.add_item(slug, section="Trade", title=f"Item {i}",
                       text=sentence_of(i, 2030), delegation="IN")
    for r in range(revisions - items):
        india.table(slug, f"1.{r % items + 1}", delegation="IN",
                    text=sentence_of(r, 2031 + r))
    template = [records.decode(doc) for doc in india.stored(slug)[0]]
    india.forget(slug)
    device = india.identity()
    assert device is not None
    for s in range(1, summits):
        docs = [records.encode(r) for r in clone(template, s, device)]
        genesis = records.decode(docs[0])
        _install(india.path, SummitEntry(f"summit-{s}", genesis.uuid, f"Summit {s}", "", "",
                                         _when(genesis.created)),
                 docs, [], {})
    return india, russia, remote


def _when(text: str) -> Any:
    from agenda.model import from_iso

    return from_iso(text)


def clone(template: list[records.Record], n: int, device: keys.Identity) -> list[records.Record]:
    """A summit's records re-made for a new genesis: ids, deps and every reference in the
    bodies remapped, each record signed again (what a summit of its own would hold)."""
    ids: dict[str, str] = {}
    uuids: dict[str, str] = {}

    def remap(value: object) -> object:
        if isinstance(value, str):
            return ids.get(value) or uuids.get(value) or value
        if isinstance(value, list):
            return [remap(v) for v in value]
        if isinstance(value, dict):
            return {k: remap(v) for k, v in value.items()}
        return value

    out = []
    for record in template:
        body = dict(record.body)
        if record.kind == records.GENESIS:
            body.update(slug=f"summit-{n}", title=f"Summit {n}")
        made = records.make(kind=record.kind, summit=ids.get(record.summit, ""),
                            scope=record.scope, author=record.author, lamport=record.lamport,
                            deps=[ids[d] for d in record.deps], created=record.created,
                            body=remap(body), signer=record.signer)  # type: ignore[arg-type]
        made = device.sign(made)
        ids[record.id], uuids[record.uuid] = made.id, made.uuid
        out.append(made)
    return out


def reference_transport(root: Path, remote: Path) -> tuple[Path, Path]:
    """A plain git clone of the joint refs, to time git doing the same transport."""
    mirror = root / "mirror.git"
    git("init", "--bare", "-q", str(mirror))
    git(f"--git-dir={mirror}", "fetch", "-q", remote.as_uri(), "refs/joint/*:refs/joint/*")
    return mirror, remote


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--summits", type=int, default=5)
    parser.add_argument("--revisions", type=int, default=200)
    parser.add_argument("--only-local", action="store_true",
                        help="only the signature check and the packets (no sync timings)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        india, russia, remote = build(root, args.summits, args.revisions)
        total = args.summits * args.revisions
        print(f"{args.summits} summits × {args.revisions} revisions, built in "
              f"{time.perf_counter() - started:.0f} s")
        if args.only_local:
            signature_check(india, total)
            compare_packets(root, india)
            india.close()
            russia.close()
            return
        push_time = timed(lambda: sync.sync(india))

        empty = root / "empty.git"
        git("init", "--bare", "-q", str(empty))
        ref_first = timed(lambda: git(f"--git-dir={empty}", "fetch", "-q", remote.as_uri(),
                                      "refs/joint/*:refs/joint/*"))
        first = timed(lambda: sync.sync(russia))
        print(f"first push by IN ({total} revisions): {push_time:.2f} s")
        print(f"first sync on a new machine: {first:.2f} s  | plain git fetch of the same "
              f"refs: {ref_first:.2f} s  (×{first / ref_first:.1f})")

        mirror, _ = reference_transport(root, remote)
        ours, ref = [], []
        for _ in range(RUNS):
            ours.append(timed(lambda: sync.sync(india)))
            ref.append(timed(lambda: (
                git(f"--git-dir={mirror}", "fetch", "-q", remote.as_uri(),
                    "+refs/joint/*:refs/joint/*"),
                git(f"--git-dir={mirror}", "push", "-q", remote.as_uri(),
                    "refs/joint/*:refs/joint/*"))))
        a, b = statistics.median(ours), statistics.median(ref)
        print(f"idle sync: {a * 1000:.0f} ms (target < 500)  | plain git fetch + push, "
              f"nothing new: {b * 1000:.0f} ms  (×{a / b:.1f})")

        out_times, in_times, ref_out, ref_in = [], [], [], []
        for run in range(3):
            slug = "summit-0"
            for n in range(30):
                india.table(slug, "1.1", delegation="IN", text=f"Run {run} text {n}.")
            out_times.append(timed(lambda: sync.sync(india)))
            in_times.append(timed(lambda: sync.sync(russia)))
            blobs = b"".join(f"M 100644 inline r{run}-{n}.json\ndata 900\n".encode()
                             + b"x" * 900 + b"\n" for n in range(30))
            stream = (f"commit refs/joint/ref/{run}\ncommitter a <a@b> 1 +0000\ndata 1\n\n"
                      .encode() + blobs + b"done\n")
            ref_out.append(timed(lambda stream=stream, run=run: (
                git(f"--git-dir={mirror}", "fast-import", "--quiet", "--done", stdin=stream),
                git(f"--git-dir={mirror}", "push", "-q", remote.as_uri(),
                    f"refs/joint/ref/{run}:refs/joint/ref/{run}"))))
            ref_in.append(timed(lambda: git(f"--git-dir={empty}", "fetch", "-q",
                                            remote.as_uri(), "+refs/joint/*:refs/joint/*")))
        for label, mine, theirs in (("30 new records out (export → push)", out_times, ref_out),
                                    ("30 new records in (fetch → import)", in_times, ref_in)):
            a, b = statistics.median(mine), statistics.median(theirs)
            print(f"{label}: {a * 1000:.0f} ms (target < 1000)  | plain git: "
                  f"{b * 1000:.0f} ms  (×{a / b:.1f})")

        signature_check(india, total)

        # What signing adds to tabling: a bound and an unbound workspace, interleaved.
        plain_ws = Workspace(root / "plain" / "ws.json", create=True)
        signed_ws = Workspace(root / "signed" / "ws.json", create=True)
        identity.init(signed_ws, "IN")
        for ws in (plain_ws, signed_ws):
            ws.create_summit("T", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                             slug="t", sections=["Trade"])
            ws.add_item("t", section="Trade", title="Ports", text="Ports.", delegation="IN")
        plain_t, signed_t = [], []
        for n in range(21):
            plain_t.append(timed(lambda n=n: plain_ws.table("t", "1.1", delegation="IN",
                                                            text=f"Text {n}.")))
            signed_t.append(timed(lambda n=n: signed_ws.table("t", "1.1", delegation="IN",
                                                              text=f"Text {n}.")))
        a, b = statistics.median(signed_t), statistics.median(plain_t)
        print(f"tabling in a bound workspace (signed): {a * 1000:.1f} ms  | unbound: "
              f"{b * 1000:.1f} ms  (×{a / b:.2f})")
        plain_ws.close()
        signed_ws.close()

        compare_packets(root, india)
        india.close()
        russia.close()


def signature_check(india: Workspace, total: int) -> None:
    """`summit check` with signatures, without, and a raw Ed25519 verify loop over the same
    records (the floor: the signatures alone), interleaved summit by summit."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pinned = india.pinned()
    device = india.identity()
    assert device is not None
    public = Ed25519PublicKey.from_public_bytes(keys.public_bytes(device.key))
    signed_t, plain_t, raw_t = [], [], []
    for _ in range(3):
        for entry in india.summits():
            stored, events = india.stored(entry.slug)
            slug, docs, logged = entry.slug, stored, events
            pairs = [(keys.unb64(d["sig"], "sig"), keys.RECORD_DOMAIN + d["id"].encode())
                     for d in docs if d.get("sig")]
            signed_t.append(timed(lambda slug=slug, docs=docs, logged=logged: check_summit(
                slug, docs, logged, pinned=pinned)))
            plain_t.append(timed(lambda slug=slug, docs=docs, logged=logged: check_summit(
                slug, docs, logged)))
            raw_t.append(timed(lambda pairs=pairs: [public.verify(sig, message)
                                                     for sig, message in pairs]))
            india.forget(entry.slug)
    a, b, c = sum(signed_t) / 3, sum(plain_t) / 3, sum(raw_t) / 3
    print(f"summit check with signatures: {a:.2f} s  | without: {b:.2f} s  | raw Ed25519 "
          f"verify loop: {c:.2f} s  (signatures add {a - b:.2f} s, ×{(a - b) / c:.1f} the "
          f"raw loop; {total} records)")


def joint_tips(repo: Path) -> dict[str, str]:
    out = git(f"--git-dir={repo}", "for-each-ref", "--format=%(refname) %(objectname)",
              "refs/joint/").decode()
    return {ref: sha for ref, sha in (line.split(" ", 1) for line in out.splitlines())}


def json_packet(docs: list[Any]) -> bytes:
    """Today's packet body: the records as JSON in a deflated zip (before age)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("records.json", orjson.dumps({"records": docs}))
    return buffer.getvalue()


def bundle_packet(repo: Path, out: Path, tips: dict[str, str],
                  since: dict[str, str]) -> bytes:
    """The design's packet body: an incremental git bundle of the joint refs."""
    out.unlink(missing_ok=True)
    # Only the refs that moved, each without what the receiver acknowledged (its old tip).
    moved = [ref for ref, tip in tips.items() if since.get(ref) != tip]
    args = [*moved, *(f"^{since[ref]}" for ref in moved if ref in since)]
    git(f"--git-dir={repo}", "bundle", "create", "-q", str(out), *args)
    return out.read_bytes()


def open_bundle(bundle: Path, into: Path) -> None:
    """What receiving a bundle costs before any record is checked: verify its
    prerequisites, fetch it, read the blobs (into a copy of what the receiver holds)."""
    git(f"--git-dir={into}", "bundle", "verify", "-q", str(bundle))
    git(f"--git-dir={into}", "fetch", "-q", str(bundle), "+refs/joint/*:refs/incoming/*")
    git(f"--git-dir={into}", "cat-file", "--batch-all-objects", "--batch")


def fresh_copy(base: Path, into: Path) -> Path:
    import shutil

    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(base, into)
    return into


def compare_packets(root: Path, india: Workspace) -> None:
    """JSON (what packets carry) against a git bundle (what EXCHANGE.md 3.6 proposes)."""
    repo = sync.exchange_dir(india) / "local.git"
    sync.sync(india)
    all_docs = []
    for entry in india.summits():
        stored, _ = india.stored(entry.slug)
        all_docs += [d for d in stored if d["record"]["scope"] == "joint"]
        india.forget(entry.slug)
    before = joint_tips(repo)
    empty, base = root / "receiver-empty.git", root / "receiver-base.git"
    git("init", "--bare", "-q", str(empty))
    git("init", "--bare", "-q", str(base))
    git(f"--git-dir={base}", "fetch", "-q", str(repo), "refs/joint/*:refs/joint/*")
    for n in range(30):
        india.table("summit-0", "1.1", delegation="IN", text=f"Packet text {n}.")
    sync.sync(india)  # export: the device ref gains the 30 records
    after = joint_tips(repo)
    new_docs = india.stored("summit-0")[0][-30:]
    bundle = root / "p.bundle"
    for label, docs, since in (("full", all_docs, {}), ("30 new records", new_docs, before)):
        j_t, b_t, j_open, b_open = [], [], [], []
        j_size = b_size = 0
        for _ in range(3 if label == "full" else RUNS):
            j_t.append(timed(lambda docs=docs: json_packet(docs)))
            b_t.append(timed(lambda since=since: bundle_packet(repo, bundle, after, since)))
            raw = json_packet(docs)
            j_size, b_size = len(raw), bundle.stat().st_size
            j_open.append(timed(lambda raw=raw: [records.decode(d) for d in orjson.loads(
                zipfile.ZipFile(io.BytesIO(raw)).read("records.json"))["records"]]))
            held = fresh_copy(base if since else empty, root / "opened.git")
            b_open.append(timed(lambda held=held: open_bundle(bundle, held)))
        print(f"packet, {label} ({len(docs)} records): JSON zip {j_size / 1024:.1f} kB built "
              f"in {statistics.median(j_t) * 1000:.0f} ms, opened+decoded in "
              f"{statistics.median(j_open) * 1000:.0f} ms  | git bundle "
              f"{b_size / 1024:.1f} kB built in {statistics.median(b_t) * 1000:.0f} ms, "
              f"fetched+read in {statistics.median(b_open) * 1000:.0f} ms  "
              f"(size ×{j_size / b_size:.2f})")
    packet = root / "p.summit"
    sent_t = timed(lambda: packets.send(india, "RU", packet, full=True))
    size = packet.stat().st_size
    print(f"full packet as sent (encrypted, {len(all_docs) + 30} records): "
          f"{size / 1024:.0f} kB, {size / (len(all_docs) + 30):.0f} B per record, "
          f"{sent_t:.2f} s")


if __name__ == "__main__":
    main()
