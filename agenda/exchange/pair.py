"""`summit demo --pair DIR`: an India and a Russia workspace and a joint remote to try the
exchange in two terminals, built through the same operations a real negotiation uses."""

from __future__ import annotations

from pathlib import Path

from agenda.exchange import identity, sync
from agenda.exchange.git import Git
from agenda.model import AgendaError, Delegation
from agenda.workspace import Workspace

SLUG = "india-russia-exchange"


def build_pair(folder: Path) -> dict[str, Path]:
    """IN.json, RU.json and joint.git in `folder` (which must not hold them yet)."""
    paths = {"IN": folder / "IN.json", "RU": folder / "RU.json", "joint": folder / "joint.git"}
    taken = [p.name for p in paths.values() if p.exists()]
    if taken:
        raise AgendaError(f"{folder} already holds {', '.join(taken)}; choose an empty folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    Git(paths["joint"]).init()
    india, russia = Workspace(paths["IN"], create=True), Workspace(paths["RU"], create=True)
    try:
        fp_in = identity.init(india, "IN", "India")
        fp_ru = identity.init(russia, "RU", "Russia")
        # In real life each side reads its fingerprint aloud at the first meeting.
        identity.trust(india, identity.card(russia), fp_ru)
        identity.trust(russia, identity.card(india), fp_in)
        for ws in (india, russia):
            sync.add_remote(ws, "joint", paths["joint"].as_uri())
        india.create_summit("India–Russia Annual Summit (exchange demo)",
                            [Delegation("IN", "India"), Delegation("RU", "Russia")],
                            slug=SLUG, venue="New Delhi",
                            sections=["Political & Strategic", "Connectivity"])
        india.add_item(SLUG, section="Political & Strategic", title="Regional architecture",
                       text="The Sides support a free and open Indo-Pacific region.",
                       delegation="IN", why="Our central line")
        india.add_item(SLUG, section="Connectivity", title="Maritime corridor",
                       text="The Sides will operationalise the Chennai–Vladivostok maritime "
                            "corridor [by 2024].", delegation="IN")
        india.table(SLUG, "1.1", delegation="IN", internal=True,
                    text="The Sides support a free, open and inclusive Indo-Pacific region.")
        india.add_note(SLUG, "1.1", delegation="IN", text="Red line: keep 'Indo-Pacific'.")
        sync.sync(india)
        sync.sync(russia)
        russia.table(SLUG, "1.1", delegation="RU", why="Russia's established wording",
                     text="The Sides support an open and inclusive Asia-Pacific region.")
        russia.accept(SLUG, "2.1", delegation="RU")
        russia.add_note(SLUG, "1.1", delegation="RU", text="Fallback: 'the region'.")
        sync.sync(russia)
        sync.sync(india)
    finally:
        india.close()
        russia.close()
    return paths
