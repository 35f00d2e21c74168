"""Every negotiation rule, in one place: pure functions over an item's texts and acts.

The CLI, the app, the exports and the benches ask these functions; nothing re-derives a
position, an agreement or a status elsewhere. State.py folds the records of an item in their
one order and calls these rules at each step, so a decision is judged at its place in the
order, whatever order the records arrived in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agenda.model import TRANSITIONS, Code, Revision, Status, Summit

# Decisions a delegation may record on an item, with the status they lead to.
DECISIONS: dict[str, Status] = {
    "deferred": Status.DEFERRED,
    "negotiating": Status.NEGOTIATING,  # resume a deferred item
    "withdrawn": Status.WITHDRAWN,
    "proposed": Status.PROPOSED,  # reopen a withdrawn item
}
STICKY = frozenset({Status.DEFERRED, Status.WITHDRAWN})

# Members a read asks about for every item, as plain names: `Code.CMP` is a lookup through the
# enum's class each time (about ten times a global's cost on Python 3.11).
_CMP, _NOC = Code.CMP, Code.NOC
_AGREED, _BRACKETED = Status.AGREED_AD_REF, Status.BRACKETED
_PROPOSED, _NEGOTIATING = Status.PROPOSED, Status.NEGOTIATING


def is_party(summit: Summit, code: str) -> bool:
    """Delegations are parties; the chair (and the workspace acting without --as) is not."""
    return code in summit.codes


def standing_on_new_text(revision: Revision, restated: Revision | None,
                         positions: Mapping[str, str]) -> tuple[str, ...]:
    """Who stands on a text at the moment it is tabled.

    Its author, unless it is a compilation (a compilation is nobody's position until
    accepted). A NOC restates another side's text unchanged, so that side stands on it too,
    provided the restated text was still its position.
    """
    codes = []
    if revision.code != _CMP:
        codes.append(revision.delegation)
    if (revision.code == _NOC and restated is not None and restated.code != _CMP
            and restated.text == revision.text
            and positions.get(restated.delegation) == restated.uuid):
        codes.append(restated.delegation)
    return tuple(codes)


def restated_by(revision: Revision, by_uuid: Mapping[str, Revision]) -> Revision | None:
    """The text a NOC restates: its parent with the same words."""
    if revision.code != _NOC:
        return None
    for parent in revision.parents:
        found = by_uuid.get(parent)
        if found is not None and found.text == revision.text:
            return found
    return None


def agreement_gap(summit: Summit, latest: Revision | None,
                  positions: Mapping[str, str]) -> str | None:
    """Why the item is not agreed ad referendum, or None when it is.

    Agreed = every party stands on the latest tabled text and it has no brackets; a later
    text therefore lapses an agreement.
    """
    if latest is None:
        return "it has no tabled text"
    uuid = latest.uuid
    # Straight from the delegations, not `summit.codes` (a tuple built at each call): every
    # item's status asks this when a summit is read.
    missing = [d.code for d in summit.delegations if positions.get(d.code) != uuid]
    if missing:
        verb = "has" if len(missing) == 1 else "have"
        return f"{', '.join(missing)} {verb} not accepted {latest.label}"
    count = latest.brackets
    if count:
        return f"{latest.label} still has {count} bracket{'s' if count != 1 else ''}"
    return None


def is_agreed(summit: Summit, latest: Revision | None, positions: Mapping[str, str]) -> bool:
    """`agreement_gap(...) is None`, without wording why not: every item's status asks it
    when a summit is read, and most items are not agreed."""
    if latest is None:
        return False
    uuid = latest.uuid
    for delegation in summit.delegations:
        if positions.get(delegation.code) != uuid:
            return False
    return not latest.brackets


def text_status(summit: Summit, tabled: Sequence[Revision],
                positions: Mapping[str, str]) -> Status:
    """The status the texts give an item when no decision overrides them."""
    if not tabled:
        return _PROPOSED
    latest = tabled[-1]
    # A text with brackets is never agreed: asked first, it spares most items of a summit
    # being read the walk over the delegations (tests/test_records.py holds it to the rule
    # as `agreement_gap` words it).
    if latest.brackets:
        return _BRACKETED
    if is_agreed(summit, latest, positions):
        return _AGREED
    if len(tabled) <= 1:
        return _PROPOSED
    return _NEGOTIATING


def decision_void(summit: Summit, owner: str, current: Status, action: str,
                  author: str, *, legacy: bool = False) -> str:
    """Why a status decision cannot stand at its place in the order ("" when it can).

    Any party may defer or resume an item; only its owner may withdraw it (or bring it back);
    the chair decides nothing; the transition table has the last word.
    """
    target = DECISIONS.get(action)
    if target is None:
        return f"{action!r} is not a decision"
    if not is_party(summit, author) and not legacy:
        return f"{author or 'the workspace'} is no party and decides nothing"
    if target in (Status.WITHDRAWN, Status.PROPOSED) and author != owner and not legacy:
        verb = "withdraw" if target == Status.WITHDRAWN else "reopen"
        return f"only the item's owner ({owner}) may {verb} it"
    if action == "negotiating" and current != Status.DEFERRED:
        return f"only a deferred item can be resumed (it is {current.value})"
    if action == "proposed" and current != Status.WITHDRAWN:
        return f"only a withdrawn item can be reopened (it is {current.value})"
    if target == current:
        return f"it is already {current.value}"
    if target not in TRANSITIONS[current]:
        return f"an item cannot go from {current.value} to {target.value}"
    return ""


def confirm_void(summit: Summit, current: Status, agreed_on: str | None, target: str,
                 author: str, confirmed: Mapping[str, str]) -> str:
    """Why a capital's confirmation cannot stand ("" when it can): it must confirm the text
    every party stands on, while the item is agreed ad referendum."""
    if not is_party(summit, author):
        return f"{author or 'the workspace'} is no party and confirms nothing"
    if current != Status.AGREED_AD_REF or agreed_on is None:
        return f"the item is {current.value}, not agreed ad referendum"
    if target != agreed_on:
        return "it confirms a text other than the agreed one"
    if confirmed.get(author) == target:
        return f"{author} has confirmed it already"
    return ""


def final_on(summit: Summit, confirmed: Mapping[str, str]) -> str | None:
    """Final = every party has confirmed the same agreed revision."""
    targets = {confirmed.get(code) for code in summit.codes}
    if len(targets) == 1 and None not in targets:
        return targets.pop()
    return None


def default_parents(tabled: Sequence[Revision], position: Revision | None) -> tuple[str, ...]:
    """A new text descends from its author's position, or from a later compilation text."""
    if not tabled:
        return ()
    order = {r.uuid: index for index, r in enumerate(tabled)}
    compilations = [r for r in tabled if r.code == Code.CMP]
    candidates = [r for r in (position, compilations[-1] if compilations else None) if r]
    if not candidates:
        return (tabled[-1].uuid,)
    return (max(candidates, key=lambda r: order[r.uuid]).uuid,)


def text_to_accept(tabled: Sequence[Revision], code: str) -> Revision | None:
    """What `accept` takes by default: the other side's latest tabled text (a compilation
    counts, whoever tabled it)."""
    return next((r for r in reversed(tabled) if r.delegation != code or r.code == Code.CMP),
                None)


def text_to_restate(tabled: Sequence[Revision], code: str) -> Revision | None:
    """What a NOC restates: the other side's latest tabled text (never a compilation)."""
    return next((r for r in reversed(tabled) if r.delegation != code and r.code != Code.CMP),
                None)


def agreed(statuses: Sequence[Status]) -> bool:
    """Nothing is agreed until everything is agreed: every live item final."""
    live = [s for s in statuses if s != Status.WITHDRAWN]
    return bool(live) and all(s == Status.FINAL for s in live)
