"""Tests for the compilation's base search: common_ancestor against its plain definition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda.demo import DEMO_SLUG
from agenda.state import common_ancestor, compile_item
from agenda.workspace import Workspace


class Rev(NamedTuple):
    uuid: str
    parents: tuple[str, ...]


def plain_common_ancestor(revisions: Iterable[Rev], history: Iterable[Rev]) -> Rev | None:
    """The definition: every given revision's full lineage intersected, latest in history."""
    ordered = list(history)
    by_uuid = {r.uuid: r for r in ordered}

    def lineage(revision: Rev) -> set[str]:
        seen: set[str] = set()
        stack = [revision.uuid]
        while stack:
            uuid = stack.pop()
            if uuid in seen or uuid not in by_uuid:
                continue
            seen.add(uuid)
            stack.extend(by_uuid[uuid].parents)
        return seen

    shared: set[str] | None = None
    for revision in revisions:
        shared = lineage(revision) if shared is None else shared & lineage(revision)
    return next((r for r in reversed(ordered) if shared and r.uuid in shared), None)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Rev], list[Rev]]:
    """Revisions with parents among the earlier ones (sometimes unknown ones), a history
    holding most of them in an order that may break parent-first, and a few positions."""
    count = draw(st.integers(1, 12))
    revisions = []
    for k in range(count):
        parents = draw(st.lists(st.sampled_from([*range(k), -1]) if k else st.just(-1),
                                max_size=2))
        revisions.append(Rev(f"r{k}", tuple(f"r{p}" if p >= 0 else "gone" for p in parents)))
    history = draw(st.permutations(revisions)) if draw(st.booleans()) else list(revisions)
    history = [r for r in history if draw(st.integers(0, 9))]  # a few missing
    positions = draw(st.lists(st.sampled_from(revisions), min_size=1, max_size=4))
    return positions, history


@settings(deadline=None, max_examples=500)
@given(histories())
def test_common_ancestor_is_the_plain_definition(case: tuple[list[Rev], list[Rev]]) -> None:
    positions, history = case
    found: Any = common_ancestor(positions, history)  # type: ignore[arg-type]
    assert found == plain_common_ancestor(positions, history)


def test_common_ancestor_of_a_side_built_on_the_other() -> None:
    a, b = Rev("a", ()), Rev("b", ("a",))
    c = Rev("c", ("b",))
    assert common_ancestor([b, c], [a, b, c]) == b  # type: ignore[arg-type]
    assert common_ancestor([c, b], [a, b, c]) == b  # type: ignore[arg-type]
    d = Rev("d", ("a",))
    assert common_ancestor([c, d], [a, b, c, d]) == a  # type: ignore[arg-type]
    assert common_ancestor([c, d], [a, b, c]) is None  # type: ignore[arg-type]
    assert common_ancestor([], [a]) is None  # type: ignore[arg-type]


def test_compile_item_reads_the_view_as_the_state_does(demo: Workspace) -> None:
    """compile_item reads the acceptances from the item's view itself, and positions reads the
    view once: the same sides, base and merge as through stands_on, accepted_by and
    common_ancestor."""
    for viewer in (None, "IN", "RU"):
        state = demo.state(DEMO_SLUG, viewer=viewer)
        compiled = 0
        for item in state.items:
            positions = state.positions(item)
            # As each side's own position reads, in the summit's delegation order.
            standing = {code: state.stands_on(item, code) for code in state.summit.codes}
            assert positions == {code: r for code, r in standing.items() if r is not None}
            if not positions:
                continue
            compiled += 1
            ours = compile_item(state, item)
            assert ours == compile_item(state, item, positions=positions)
            assert list(ours.positions.items()) == list(positions.items())
            tabled = state.tabled(item)
            agreed = next((r for r in reversed(tabled)
                           if positions.keys() <= state.accepted_by(r)), None)
            assert ours.agreed_base == (agreed is not None)
            assert ours.base == (agreed or common_ancestor(positions.values(), tabled))
        assert compiled
