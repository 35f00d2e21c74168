"""The built-in demo: India and Russia preparing the 2021 annual summit (Tribune, 11 Feb 2021).

The history is written through the ordinary workspace operations, on a clock of its own, so
that every run gives the same texts, numbers and timestamps (snapshot and golden tests rely on
it) and the demo exercises the same rules a real negotiation does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agenda.model import Code, Delegation, Status
from agenda.workspace import Workspace

DEMO_SLUG = "india-russia-2021"
DEMO_TITLE = "India–Russia Annual Summit 2021"

SECTIONS = (
    "Political & Strategic",
    "Connectivity & Russian Far East",
    "Health",
    "Defence & Military-Technical",
    "Multilateral",
)


class DemoClock:
    """A clock that stands at a chosen moment and ticks a few minutes per recorded act."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def at(self, stamp: str) -> None:
        self.moment = datetime.fromisoformat(stamp).replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(minutes=3)
        return self.moment


def build_demo(ws: Workspace) -> str:
    """Add the demo summit to a workspace, in one transaction; returns its slug."""
    clock = DemoClock(datetime(2021, 2, 11, 9, 0, tzinfo=UTC))
    demo = Workspace(ws.path, clock=clock)
    try:
        with demo.transaction():
            _negotiate(demo, clock)
    finally:
        demo.close()
    return DEMO_SLUG


def _negotiate(ws: Workspace, clock: DemoClock) -> None:
    s = DEMO_SLUG
    ws.create_summit(
        DEMO_TITLE,
        [Delegation("IN", "India", "Narendra Modi, Prime Minister"),
         Delegation("RU", "Russian Federation", "Vladimir Putin, President")],
        slug=s, venue="New Delhi", dates="6 December 2021", sections=SECTIONS)

    # 1.1 — the wording dispute the article mentions: Indo-Pacific or Asia-Pacific.
    clock.at("2021-02-15T10:00")
    ws.add_item(s, section="Political & Strategic", delegation="IN",
                title="Regional security architecture",
                why="Sets out the shared approach to the region",
                tags=["wording", "priority"],
                text="The Sides reaffirmed their commitment to a free, open and inclusive "
                     "Indo-Pacific region, based on respect for sovereignty and territorial "
                     "integrity, and agreed to deepen consultations on regional security.")
    ws.add_note(s, "1.1", delegation="IN",
                text="Red line: the term Indo-Pacific stays in the text. Fallback: "
                     "\"the Indo-Pacific and Eurasian space\" if Moscow insists.")
    clock.at("2021-03-02T08:30")
    ws.table(s, "1.1", delegation="RU", code=Code.MOD,
             why="Russia does not subscribe to the Indo-Pacific concept; proposes established "
                 "regional terminology",
             text="The Sides reaffirmed their commitment to an equal and indivisible security "
                  "architecture in the Asia-Pacific region, based on respect for sovereignty "
                  "and territorial integrity, and agreed to deepen consultations on regional "
                  "security.")
    ws.add_note(s, "1.1", delegation="RU",
                text="Lavrov's line: no endorsement of Indo-Pacific; bloc politics concern. "
                     "Could accept 'Asia-Pacific and Indian Ocean'.")
    clock.at("2021-03-09T14:00")
    ws.table(s, "1.1", delegation="IN", internal=True,
             why="Fallback for the capital's approval, not yet cleared",
             text="The Sides reaffirmed their commitment to a free, open and inclusive "
                  "Indo-Pacific and Eurasian space, based on respect for sovereignty and "
                  "territorial integrity, and agreed to deepen consultations on regional "
                  "security.")
    clock.at("2021-03-12T11:00")
    ws.table(s, "1.1", delegation="IN", code=Code.MOD,
             why="Keeps the agreed principles; retains India's regional term",
             text="The Sides reaffirmed their commitment to a free, open and inclusive "
                  "Indo-Pacific region, based on respect for sovereignty and territorial "
                  "integrity, and agreed to deepen consultations on regional security, "
                  "including at the level of Foreign Secretary and Deputy Foreign Minister.")
    clock.at("2021-03-15T09:30")
    ws.table_compilation(s, "1.1", delegation="IN")

    # 1.2 — agreed ad referendum after one round.
    clock.at("2021-02-15T10:30")
    ws.add_item(s, section="Political & Strategic", delegation="IN",
                title="Annual summit and 2+2 dialogue",
                text="The Sides welcomed the resumption of the Annual Summit after the "
                     "pandemic year and agreed to establish a 2+2 dialogue of Foreign and "
                     "Defence Ministers, to meet annually.")
    clock.at("2021-03-02T09:00")
    ws.table(s, "1.2", delegation="RU", code=Code.MOD,
             why="Adds the inaugural meeting date",
             text="The Sides welcomed the resumption of the Annual Summit after the "
                  "pandemic year and agreed to establish a 2+2 dialogue of Foreign and "
                  "Defence Ministers, to meet annually, with the inaugural meeting in "
                  "New Delhi before the Summit.")
    clock.at("2021-03-10T16:00")
    ws.accept(s, "1.2", delegation="IN")

    # 2.1 — the maritime corridor: still being negotiated, with an internal draft.
    clock.at("2021-02-16T09:00")
    ws.add_item(s, section="Connectivity & Russian Far East", delegation="IN",
                title="Chennai–Vladivostok Maritime Corridor", tags=["connectivity"],
                text="Following the successful trial run, the Sides agreed to operationalise "
                     "the Chennai–Vladivostok Maritime Corridor by 2022, with regular "
                     "container services and a joint working group on port infrastructure.")
    clock.at("2021-03-03T10:00")
    ws.table(s, "2.1", delegation="RU", code=Code.MOD,
             why="A firm date is premature before the feasibility study",
             text="Following the trial run, the Sides agreed to work towards the "
                  "operationalisation of the Chennai–Vladivostok Maritime Corridor, subject "
                  "to a joint feasibility study, with a joint working group on port "
                  "infrastructure and the Northern Sea Route.")
    clock.at("2021-03-11T15:00")
    ws.table(s, "2.1", delegation="IN", internal=True,
             why="Could drop the date if the study is time-bound",
             text="Following the successful trial run, the Sides agreed to operationalise "
                  "the Chennai–Vladivostok Maritime Corridor on completion of a joint "
                  "feasibility study by December 2021, with a joint working group on port "
                  "infrastructure.")
    ws.add_note(s, "2.1", delegation="IN",
                text="Shipping Ministry wants the date; MEA can live with a time-bound study.")

    # 2.2 — the line of credit; Russia restates India's figure but adds conditions.
    clock.at("2021-02-16T09:30")
    ws.add_item(s, section="Connectivity & Russian Far East", delegation="IN",
                title="USD 1 billion line of credit for the Russian Far East",
                tags=["finance", "far-east"],
                text="The Russian Side welcomed India's line of credit of USD 1 billion for "
                     "the development of the Russian Far East. The Sides agreed to identify "
                     "the first projects in mining, hydrocarbons and timber by mid-2021.")
    clock.at("2021-03-04T11:00")
    ws.table(s, "2.2", delegation="RU", code=Code.MOD,
             why="Broadens the sectors and the region",
             text="The Russian Side welcomed India's line of credit of USD 1 billion for "
                  "the development of the Russian Far East and the Arctic. The Sides agreed "
                  "to identify the first projects in mining, hydrocarbons, agriculture and "
                  "ship-building by mid-2021.")
    ws.add_note(s, "2.2", delegation="RU",
                text="Ministry for the Development of the Far East wants ship-building "
                     "included; Arctic is a nice-to-have.")

    # 3.1 — Sputnik V: agreed and confirmed by both capitals.
    clock.at("2021-02-17T10:00")
    ws.add_item(s, section="Health", delegation="RU",
                title="Production of Sputnik V vaccine in India", tags=["health"],
                text="The Sides welcomed the agreements for the production of the Sputnik V "
                     "vaccine in India and its supply to third countries, following "
                     "regulatory approval.")
    clock.at("2021-03-01T12:00")
    ws.table(s, "3.1", delegation="IN", code=Code.NOC,
             why="Acceptable as proposed")
    clock.at("2021-03-20T10:00")
    ws.set_status(s, "3.1", Status.FINAL, actor="IN")  # each capital confirms the text
    ws.set_status(s, "3.1", Status.FINAL, actor="RU")

    # 4.1 — the military-technical programme: one decade, two end years.
    clock.at("2021-02-18T09:00")
    ws.add_item(s, section="Defence & Military-Technical", delegation="IN",
                title="Programme for military-technical cooperation 2021–2031",
                tags=["defence"],
                text="The Sides agreed to conclude the Programme for Military-Technical "
                     "Cooperation for 2021–2031, tailored to joint development and production "
                     "of military platforms in India under the Atmanirbhar Bharat policy.")
    ws.add_note(s, "4.1", delegation="IN",
                text="MoD: joint development is the point; licensed assembly alone is not "
                     "enough.")
    clock.at("2021-03-05T09:00")
    ws.table(s, "4.1", delegation="RU", code=Code.MOD,
             why="Aligns the period with the current programme's end; keeps the joint "
                 "production language",
             text="The Sides agreed to conclude the Programme for Military-Technical "
                  "Cooperation for 2021–2030, covering joint research, development and "
                  "production of military equipment, including in India.")
    clock.at("2021-03-06T17:00")
    ws.table(s, "4.1", delegation="RU", internal=True,
             why="For Rosoboronexport's review",
             text="The Sides agreed to conclude the Programme for Military-Technical "
                  "Cooperation for 2021–2031, covering joint research, development and "
                  "production of military equipment in India.")

    # 4.2 — joint production, proposed and not yet answered.
    clock.at("2021-02-18T09:30")
    ws.add_item(s, section="Defence & Military-Technical", delegation="IN",
                title="Joint production: AK-203 rifles and Kamov helicopters",
                tags=["defence"],
                text="The Sides noted progress in the manufacturing of AK-203 rifles in "
                     "Amethi and agreed to finalise the joint production of Kamov Ka-226T "
                     "helicopters in India.")

    # 5.1 — the trilateral, deferred to the Foreign Ministers.
    clock.at("2021-02-19T10:00")
    ws.add_item(s, section="Multilateral", delegation="IN",
                title="India–Japan–Russia trilateral", tags=["multilateral"],
                text="The Sides agreed to place the India–Japan–Russia trilateral dialogue "
                     "on a firmer footing, with a focus on the development of the Russian "
                     "Far East.")
    clock.at("2021-03-08T10:00")
    ws.set_status(s, "5.1", Status.DEFERRED, actor="RU")

    # 5.2 — the multilateral fora, proposed by Russia with the bracket it wants kept.
    clock.at("2021-02-19T11:00")
    ws.add_item(s, section="Multilateral", delegation="RU",
                title="Cooperation in BRICS, SCO and the United Nations",
                tags=["multilateral"],
                text="The Sides agreed to coordinate closely in BRICS, the SCO and the "
                     "United Nations, [including on the reform of the UN Security Council]"
                     "[and supported India's permanent membership of a reformed UN Security "
                     "Council].")
