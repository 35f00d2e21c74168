"""Packets: signed, encrypted joint records; refused whole when anything is wrong."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_exchange_sync import World, joint_view, new_summit

from agenda import records
from agenda.exchange import identity, packets
from agenda.exchange.packets import PacketError
from agenda.workspace import Workspace


@pytest.fixture
def pair(tmp_path: Path) -> Any:
    world = World(tmp_path)
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports [by 2030].",
                   delegation="IN")
    india.table(slug, "1.1", delegation="IN", text="DRAFT-PACKET", internal=True)
    india.add_note(slug, "1.1", delegation="IN", text="NOTE-PACKET")
    yield world, india, russia, slug
    world.close()


def _files(ws: Workspace) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in ws.path.parent.rglob("*") if p.is_file()
            and not p.name.endswith(".lock")}


def test_a_packet_round_trip_and_the_same_packet_twice(pair: Any, tmp_path: Path) -> None:
    world, india, russia, slug = pair
    out = tmp_path / "in-to-ru.summit"
    sent = packets.send(india, "RU", out)
    assert sent.encrypted and out.read_bytes().startswith(packets.AGE_MAGIC)
    report = packets.receive(russia, out)
    assert report.joined and not report.refused
    assert joint_view(india) == joint_view(russia)
    before = _files(russia)
    again = packets.receive(russia, out)
    assert again.lines() == ["nothing new"] and not again.refused
    assert _files(russia) == before


def test_internal_material_is_never_in_a_packet(pair: Any, tmp_path: Path) -> None:
    world, india, russia, slug = pair
    out = tmp_path / "p.summit"
    packets.send(india, "RU", out)
    inner = __import__("pyrage").decrypt(out.read_bytes(), [russia.identity().age_identity()])
    with zipfile.ZipFile(io.BytesIO(inner)) as z:
        everything = inner + b"".join(z.read(n) for n in z.namelist())
    assert b"DRAFT-PACKET" not in everything and b"NOTE-PACKET" not in everything
    assert b"Ports [by 2030]." in everything


@settings(max_examples=25, deadline=None)
@given(where=st.integers(0, 10_000), bit=st.integers(0, 7), encrypt=st.booleans())
def test_a_flipped_bit_is_refused_and_nothing_written(where: int, bit: int,
                                                       encrypt: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        world = World(root)
        try:
            india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
            world.trust_all()
            slug = new_summit(india, "IN", "RU")
            india.add_item(slug, section="Trade", title="Ports", text="Ports.",
                           delegation="IN")
            out = root / "p.summit"
            packets.send(india, "RU", out, encrypt=encrypt)
            raw = bytearray(out.read_bytes())
            raw[where % len(raw)] ^= 1 << bit
            out.write_bytes(bytes(raw))
            before = _files(russia)
            with pytest.raises(PacketError):
                packets.receive(russia, out)
            assert _files(russia) == before and russia.summits() == []
        finally:
            world.close()


def test_a_packet_for_another_delegation_is_refused(pair: Any, tmp_path: Path) -> None:
    world, india, russia, slug = pair
    out = tmp_path / "p.summit"
    packets.send(india, "RU", out, encrypt=False)
    india_b = world.officer("in-b", "in")
    before = _files(india_b)
    with pytest.raises(PacketError, match="addressed to RU, not to IN"):
        packets.receive(india_b, out)
    assert _files(india_b) == before


def test_an_unpinned_signer_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
        card, fp = world.cards["RU"]
        identity.trust(india, card, fp)  # India knows Russia; Russia has not pinned India
        slug = new_summit(india, "IN", "RU")
        india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
        out = tmp_path / "p.summit"
        packets.send(india, "RU", out)
        before = _files(russia)
        with pytest.raises(PacketError, match="not pinned"):
            packets.receive(russia, out)
        assert _files(russia) == before
    finally:
        world.close()


def test_encryption_needs_a_key_of_the_addressee(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        india = world.delegation("in", "IN")
        new_summit(india, "IN", "RU")
        with pytest.raises(PacketError, match="No device key of RU"):
            packets.send(india, "RU", tmp_path / "p.summit")
        assert not (tmp_path / "p.summit").exists()
    finally:
        world.close()


def test_a_forged_packet_carrying_internal_material_is_refused(pair: Any,
                                                              tmp_path: Path) -> None:
    """A sender whose software leaked a team record: the packet is signed, yet the record is
    refused by name and the joint records are imported."""
    world, india, russia, slug = pair
    ident = india.identity()
    stored, _ = india.stored(slug)
    body = orjson.dumps({"records": stored})  # every record, internal ones included
    manifest = {"format": packets.FORMAT, "uuid": "0" * 8, "from": "IN",
                "device": ident.device, "cert": ident.cert, "to": ["RU"],
                "created": "2021-01-01T00:00:00Z", "summits": [stored[0]["id"]],
                "count": len(stored),
                "records_sha256": hashlib.sha256(body).hexdigest()}
    manifest_bytes = records.canonical(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("manifest.json", manifest_bytes)
        z.writestr("manifest.sig", ident.sign_bytes(b"summit-agenda/packet/v1\0",
                                                    manifest_bytes))
        z.writestr("records.json", body)
    out = tmp_path / "forged.summit"
    zipped = buffer.getvalue()
    out.write_bytes(packets.ENVELOPE + hashlib.sha256(zipped).hexdigest().encode() + b"\n"
                    + zipped)
    report = packets.receive(russia, out)
    assert len(report.refused) == 2 and all("team:IN" in line for line in report.refused)
    everything = b"".join(_files(russia).values())
    assert b"DRAFT-PACKET" not in everything and b"NOTE-PACKET" not in everything
    assert joint_view(russia) == joint_view(india)


def test_receipts_make_packets_incremental_and_early_packets_wait(pair: Any,
                                                                   tmp_path: Path) -> None:
    world, india, russia, slug = pair
    late = world.officer("ru-late", "ru")  # a second Russian machine that missed packet 1
    identity.trust(late, *world.cards["IN"])
    p1, r1, p2, p3 = (tmp_path / f"{n}.summit" for n in ("p1", "r1", "p2", "p3"))
    packets.send(india, "RU", p1, encrypt=False)
    packets.receive(russia, p1)
    # Russia's packet back carries its receipt: what it holds of each device's records.
    packets.send(russia, "IN", r1)
    assert packets.receive(india, r1).lines() == ["nothing new"]
    india.table(slug, "1.1", delegation="IN", text="Second packet's text.")
    assert packets.send(india, "RU", p2, encrypt=False).count == 1
    india.table(slug, "1.1", delegation="IN", text="Third packet's text.")
    # Nothing acknowledged since: packet 3 carries packet 2's record again, so losing
    # packet 2 or receiving them out of order costs nothing.
    assert packets.send(india, "RU", p3, encrypt=False).count == 2
    assert not packets.receive(russia, p3).waiting
    assert packets.receive(russia, p2).lines() == ["nothing new"]
    assert joint_view(russia) == joint_view(india)
    # The machine that missed packet 1 parks packet 2 until packet 1 arrives.
    before = {p for p in _files(late) if "inbox" not in p.parts}
    report = packets.receive(late, p2)
    assert report.waiting and late.summits() == []
    assert {p for p in _files(late) if "inbox" not in p.parts} == before
    report = packets.receive(late, p1)
    assert not report.waiting and not report.refused
    assert not list((late.path.parent / "ws.exchange" / "inbox").glob("*.summit"))
    packets.receive(late, p3)
    assert joint_view(late) == joint_view(india)
    # --full carries everything again, whatever was acknowledged.
    assert packets.send(india, "RU", tmp_path / "full.summit", full=True).count == \
        len(joint_view(india)[0])
