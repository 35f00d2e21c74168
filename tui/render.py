"""Turn the core's records and diffs into styled Content: user text is always plain data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.content import Content

from agenda.diff import Op
from agenda.model import Status

# Changes are shown with colour and strike-through, never with square-bracket markers:
# brackets mean disputed text to a negotiator.
DELETED = "$text-error strike on $error-muted"
INSERTED = "$text-success on $success-muted"

STATUS_STYLE: dict[Status, str] = {
    Status.PROPOSED: "$text-primary",
    Status.NEGOTIATING: "$text-secondary",
    Status.BRACKETED: "$text-warning",
    Status.AGREED_AD_REF: "$text-success",
    Status.FINAL: "bold $text-success",
    Status.DEFERRED: "$text-muted",
    Status.WITHDRAWN: "$text-muted strike",
}


def status_label(status: Status) -> Content:
    return Content.styled(status.value, STATUS_STYLE[status])


def op_content(ops: Iterable[Op], *, show: frozenset[str]) -> Content:
    """One side of a diff: equal text plain, the side's own changes highlighted."""
    parts: list[str | tuple[str, str]] = []
    for op in ops:
        if op.op not in show:
            continue
        if op.op == "equal":
            parts.append(op.text)
        else:
            parts.append((op.text, DELETED if op.op == "delete" else INSERTED))
    return Content.assemble(*parts)


def inline_content(ops: Sequence[Op]) -> Content:
    """Both sides in one text: deletions struck through, insertions highlighted."""
    return op_content(ops, show=frozenset({"equal", "delete", "insert"}))


def percent(value: float) -> str:
    return f"{round(value * 100)}%"
