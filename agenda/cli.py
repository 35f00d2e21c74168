"""The command-line door: `summit` opens the TUI, its subcommands do the non-interactive jobs.

Scripted commands start fast because they import only what they use: Textual, the export
and import stack, the backup code and platformdirs are imported by the handlers that need
them, only the chosen command's parser is built, and the version is looked up only for
`--version`. Refused operations and failed reads or writes print one line on stderr and exit
1; usage errors exit 2 (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any, NoReturn

from agenda import paths
from agenda.model import (
    AgendaError,
    Code,
    Delegation,
    Revision,
    Status,
    now_utc,
    parse_delegation,
    parse_status,
    to_iso,
    when,
)
from agenda.text import inert
from agenda.workspace import DEFAULT_SECTIONS, Workspace

PROG = "summit"
ENV_DB = paths.ENV_DB


# Output ------------------------------------------------------------------------------------

_JSON_UNSAFE = re.compile("[\x80-\x9f\u2028\u2029]")


def say(text: str = "") -> None:
    """Print user-derived text with every control character made visible."""
    sys.stdout.write(inert(text) + "\n")


def say_lines(lines: list[str]) -> None:
    """`say` of each line, in one write (20,000 lines at 20,000 items)."""
    if not lines:
        return
    text = "\n".join(lines)
    # Control characters made visible in one pass; line by line, as `say` does, when there
    # is a CR: one that ends a line would otherwise pass as the CRLF the join makes of it.
    text = inert(text) if "\r" not in text else "\n".join(map(inert, lines))
    sys.stdout.write(text + "\n")


def say_json(value: Any) -> None:
    # json.dumps escapes C0 controls; C1 controls (CSI is U+009B) would pass raw, so escape them.
    dumped = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    sys.stderr.write(f"{PROG}: {inert(message)}\n")
    raise SystemExit(code)


# Arguments ---------------------------------------------------------------------------------

def _columns() -> int:
    """The terminal width as shutil.get_terminal_size gives it, without importing shutil."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse builds a formatter for every option it adds, and each one imports shutil
    (with bz2 and lzma) to ask the terminal width: a cost at every start, for help text."""

    def __init__(self, prog: str, **kw: Any) -> None:
        if kw.get("width") is None:
            kw["width"] = _columns() - 2
        super().__init__(prog, **kw)


class Parser(argparse.ArgumentParser):
    """argparse echoes bad arguments in its errors; make them inert like any user text."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kw)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {inert(message)}\n")


def _common(with_as: bool = True, as_help: str | None = None) -> Parser:
    """Options every subcommand accepts, before or after its name."""
    parent = Parser(add_help=False, argument_default=argparse.SUPPRESS)
    parent.add_argument("--db", metavar="PATH", type=Path,
                        help=f"workspace file (default: ${ENV_DB}, else the user data folder)")
    parent.add_argument("--summit", metavar="SLUG",
                        help="which summit (default: the only one in the workspace)")
    if with_as:
        parent.add_argument(
            "--as", dest="as_", metavar="CODE",
            help=as_help or "act as this delegation: include its internal drafts and notes")
    return parent


def _text_source(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--text", help="the text itself")
    group.add_argument("--file", type=Path, help="read the text from a UTF-8 file ('-': stdin)")
    parser.set_defaults(text_required=required)


def read_text(args: argparse.Namespace, *, required: bool = True) -> str | None:
    """The body from --text, --file, or standard input when it is not a terminal."""
    if getattr(args, "text", None) is not None:
        return args.text
    file: Path | None = getattr(args, "file", None)
    if file is not None and str(file) != "-":
        try:
            raw = file.read_bytes()
        except OSError as exc:
            fail(f"Cannot read {file}: {exc.strerror}")
        return decode_utf8(raw, str(file))
    if file is not None or not sys.stdin.isatty():
        return decode_utf8(sys.stdin.buffer.read(), "standard input")
    if required:
        fail("Give the text with --text, --file or on standard input", 2)
    return None


def decode_utf8(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{source} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
             "is it a binary file?")


def _delegation(value: str) -> Delegation:
    """CODE=Name or CODE=Name:Head of delegation (model.parse_delegation, as the app reads it)."""
    try:
        return parse_delegation(value)
    except AgendaError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _status(value: str) -> Status:
    """A status as people type it: `agreed-ad-ref`, `Agreed_Ad_Ref`, `agreed ad ref`."""
    try:
        return parse_status(value)
    except AgendaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def workspace_path(args: argparse.Namespace) -> Path:
    """--db, else $SUMMIT_AGENDA_DB, else the user data folder of this platform."""
    return getattr(args, "db", None) or paths.default_workspace_path()


# Workspaces opened by this command: main() takes their daily backup once the work is done.
_opened: list[Workspace] = []


def _warn(message: str) -> None:
    sys.stderr.write(f"{PROG}: {inert(message)}\n")


def _tidied(ws: Workspace) -> Workspace:
    """Say what tidying up after a killed operation did at open (stderr, once)."""
    for line in ws.recovered:
        _warn(line)
    return ws


def open_workspace(args: argparse.Namespace, *, create: bool = False) -> Workspace:
    ws = _tidied(Workspace(workspace_path(args), create=create))
    if ws.pending_migration() is not None:
        # The command's first write commits the migration: the old files are saved first,
        # and a migration never runs without that backup.
        from agenda.backup import automatic_backup

        try:
            automatic_backup(ws)
        except (OSError, AgendaError) as exc:
            fail(f"The backup before upgrading {ws.path} failed "
                 f"({getattr(exc, 'strerror', None) or exc}); nothing was changed")
    ws.keep_changed = _keep_changed
    _opened.append(ws)
    return ws


# Set by the `summit` script (agenda.__main__.script), which exits once its output is out:
# a read's keeping is then left to a forked child (snapshot.finish_keeping).
DETACH_KEEPING = False


def _finish_keeping() -> None:
    snapshot = sys.modules.get("agenda.snapshot")
    if snapshot is not None:
        snapshot.finish_keeping(DETACH_KEEPING)


def _keep_changed(ws: Workspace, slug: str, held: bool) -> None:
    """A commit that changed a large summit keeps what it made stale (snapshot.keep_changed);
    imported here, on the paths that write, not at every command's start."""
    from agenda import snapshot

    snapshot.keep_changed(ws, slug, held)


def _writing_one_item(ws: Workspace) -> Workspace:
    """A write on one item (`table`, `accept`, `note`, `status`) on a large summit reads
    from the acting side's kept checkpoint, and keeps it after the commit (snapshot.py)."""
    from agenda import snapshot

    ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
    return ws


def _adding_one_item(ws: Workspace) -> Workspace:
    """`summit add` on a summit whose joint view is kept reads from that checkpoint, and keeps
    it after the commit (snapshot.serve_add), instead of reading the summit in full."""
    from agenda import snapshot

    ws.serve_add = snapshot.serve_add
    return ws


def _keeping_later(ws: Workspace) -> Workspace:
    """A command that writes in one transaction and then reads nothing kept: what its write
    keeps (read in full: snapshot.keep_written) is kept after its output (_finish_keeping)."""
    from agenda import snapshot

    snapshot.defer_keeping()
    ws.fold_later = True  # a write on one item read in full: its viewer's fold made then too
    return ws


def _daily_backup_due(ws: Workspace) -> bool:
    """Cheap: one stat, so a command with no backup due never loads the backup code."""
    if not os.access(ws.path, os.W_OK):
        return False  # read-only media or someone else's file: nobody here can change it
    name = paths.daily_backup_name(ws.path, f"{now_utc():%Y-%m-%d}")
    return not (paths.backups_dir(ws.path) / name).exists()


def _backup_failed(ws: Workspace) -> None:
    """Say once why the last detached daily backup failed (backup.run_worker left it)."""
    failed = paths.backups_dir(ws.path) / paths.BACKUP_FAILED
    try:
        with open(failed, "rb") as status:
            reason = status.read(1000).decode(errors="replace")
        failed.unlink()
    except OSError:
        return  # the usual case: none (one failed open)
    _warn(f"warning: the automatic backup of {ws.path} failed ({reason.strip()})")


def take_daily_backups() -> None:
    """Once a day of use, after the command's work and outside the lock; a failure only warns.

    A backup with real work is left to a detached worker (backup.daily_backup); what went
    wrong there is said by the next command.
    """
    while _opened:
        ws = _opened.pop()
        try:
            _backup_failed(ws)
            if not _daily_backup_due(ws):
                continue
            from agenda.backup import daily_backup

            daily_backup(ws, f"{now_utc():%Y-%m-%d}")
        except Exception as exc:  # noqa: BLE001 - the command's work is done and stands
            sys.stderr.write(f"{PROG}: warning: the automatic backup of {ws.path} failed "
                             f"({inert(getattr(exc, 'strerror', None) or str(exc))})\n")


def _summit(ws: Workspace, args: argparse.Namespace) -> str:
    return ws.resolve_slug(getattr(args, "summit", None))


def _as(args: argparse.Namespace) -> str | None:
    value = getattr(args, "as_", None)
    return value.strip().upper() if value else None


def _need_as(args: argparse.Namespace, what: str) -> str:
    code = _as(args)
    if not code:
        fail(f"{what} needs --as CODE: which delegation is acting?", 2)
    return code


# Commands ----------------------------------------------------------------------------------

def cmd_new(args: argparse.Namespace) -> None:
    ws = open_workspace(args, create=True)
    if args.template:
        if args.section:
            fail("--template lays out the sections; give either --template or --section", 2)
        from agenda.importer import new_summit_from_starter

        report = new_summit_from_starter(
            ws, args.template, args.title, args.delegation, delegation=_as(args),
            slug=getattr(args, "slug", None), venue=args.venue, dates=args.dates,
            template_dir=args.template_dir, chair=args.chair)
        say(report.slug)
        return
    sections = args.section or list(DEFAULT_SECTIONS)
    entry = ws.create_summit(args.title, args.delegation, slug=getattr(args, "slug", None),
                             venue=args.venue, dates=args.dates, sections=sections,
                             chair=args.chair)
    say(entry.slug)


def cmd_summits(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
    entries = ws.summits()
    if args.json:
        say_json([{"slug": e.slug, "title": e.title, "venue": e.venue, "dates": e.dates,
                   "uuid": e.uuid, "created": to_iso(e.created)} for e in entries])
        return
    if not entries:
        say("No summits yet: create one with `summit new`, or try `summit demo`.")
    for e in entries:
        place = ", ".join(x for x in (e.venue, e.dates) if x)
        say(f"{e.slug:<24} {e.title}" + (f" ({place})" if place else ""))


def cmd_items(args: argparse.Namespace) -> None:
    from agenda import snapshot

    snapshot.defer_keeping()  # after the output: a read-only command
    ws = open_workspace(args)
    # A listing kept by this user's own full read of the same bytes, if there is one.
    shown = snapshot.items(ws, _summit(ws, args), _as(args))
    if args.json:
        say_json([dict(zip(snapshot.FIELDS, row, strict=True)) for row in shown["items"]])
        return
    lines: list[str] = []
    add = lines.append
    section = None
    for number, title, in_section, status, _, _, brackets, _, _ in shown["items"]:
        if in_section != section:
            section = in_section
            add(f"{number.split('.')[0]}. {section}")
        # Square brackets would read as disputed text; the count is spelled out.
        mark = f"  · {brackets} bracket{'s' if brackets != 1 else ''}" if brackets else ""
        add(f"  {number:<5} {status:<13} {title}{mark}")
    empty = shown["empty"]
    if empty:
        add(f"(sections with no items: {'; '.join(empty)})")
    say_lines(lines)


def cmd_add(args: argparse.Namespace) -> None:
    code = _need_as(args, "add")
    text = read_text(args)
    ws = _adding_one_item(_keeping_later(open_workspace(args)))
    item = ws.add_item(_summit(ws, args), section=args.section, title=args.title, text=text or "",
                       delegation=code, why=args.why, tags=args.tag or ())
    say(item.number)


def cmd_table(args: argparse.Namespace) -> None:
    code = _need_as(args, "table")
    chosen = Code(args.code)
    text = read_text(args, required=chosen not in (Code.NOC, Code.SUP))
    if chosen == Code.SUP and text is None:
        text = ""
    ws = _keeping_later(_writing_one_item(open_workspace(args)))
    revision = ws.table(_summit(ws, args), args.item, delegation=code, text=text, code=chosen,
                        why=args.why, internal=args.internal)
    kind = "internal draft" if not revision.tabled else "tabled"
    say(f"{revision.label} {kind} ({revision.code.value})")


def cmd_accept(args: argparse.Namespace) -> None:
    code = _need_as(args, "accept")
    ws = _writing_one_item(open_workspace(args))
    slug = _summit(ws, args)
    acceptance = ws.accept(slug, args.item, delegation=code, revision=args.revision)
    from agenda import snapshot

    # Read as `show` reads: from the readings the write just kept, not the summit again.
    item = snapshot.item(ws, slug, code, acceptance.item)
    accepted = item.revision(acceptance.revision)
    say(f"{code} accepted {accepted.label} ({accepted.delegation}) of item {item.number}; "
        f"status: {item.status}")


def cmd_status(args: argparse.Namespace) -> None:
    ws = _keeping_later(_writing_one_item(open_workspace(args)))
    item = ws.set_status(_summit(ws, args), args.item, args.status, actor=_as(args) or "")
    say(f"{item.number} {item.status.value}")


def cmd_undo(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
    slug = _summit(ws, args)
    if args.dry_run:
        found = ws.undoable(slug, _as(args))
        if not found.allowed:
            fail(f"Cannot undo {found.what}: {found.refusal}")
        say(f"would undo: {found.what}")
        return
    say(f"undone: {ws.undo(slug, _as(args)).what}")


def cmd_note(args: argparse.Namespace) -> None:
    code = _need_as(args, "note")
    ws = _keeping_later(_writing_one_item(open_workspace(args)))
    text = args.note_text if args.note_text is not None else read_text(args)
    ws.add_note(_summit(ws, args), args.item, delegation=code, text=text or "")
    say(f"note saved (private to {code})")


def cmd_notes(args: argparse.Namespace) -> None:
    code = _need_as(args, "notes")
    ws = open_workspace(args)
    state = ws.state(_summit(ws, args), code)
    item = state.item(args.item)
    notes = state.item_notes(item)
    if args.json:
        say_json([{"uuid": n.uuid, "delegation": n.delegation, "text": n.text,
                   "created": to_iso(n.created)} for n in notes])
        return
    for note in notes:
        say(f"{when(note.created)}  {note.text}")
    if not notes:
        say(f"No notes of {code} on item {item.number}.")


def revision_json(revision: Revision, accepted_by: Callable[[Revision], Any]) -> dict[str, Any]:
    return {
        "number": revision.label, "delegation": revision.delegation,
        "code": revision.code.value, "visibility": revision.visibility.value,
        "text": revision.text, "justification": revision.justification,
        "created": to_iso(revision.created), "uuid": revision.uuid,
        "parents": list(revision.parents), "hash": revision.hash,
        "accepted_by": sorted(accepted_by(revision)) if revision.tabled else [],
        "id": revision.id, "short": revision.short, "was": revision.was,
        "after_final": revision.after_final,
    }


def cmd_show(args: argparse.Namespace) -> None:
    from agenda import snapshot

    snapshot.defer_keeping()  # after the output: a read-only command
    ws = open_workspace(args)
    # The item's reading kept by this user's own full read of the same bytes, if there is one.
    item = snapshot.item(ws, _summit(ws, args), _as(args), args.item)
    revision: Revision | None
    if args.revision:
        revision = item.revision(args.revision)
    else:
        revision = item.latest_draft() or item.latest()
    if args.json:
        say_json({"number": item.number, "title": item.title, "section": item.section,
                  "status": item.status, "owner": item.owner, "brackets": item.brackets,
                  "revision": revision_json(revision, item.accepted_by) if revision else None})
        return
    say(f"{item.number} {item.title}")
    say(f"Section: {item.section} · Proposed by {item.owner} · Status: {item.status} · "
        f"Brackets: {item.brackets}")
    if revision is None:
        say("(no text visible)")
        return
    say(f"{revision.label} {revision.delegation} {revision.code.value} "
        f"{revision.visibility.value} {when(revision.created)}"
        + (f" — {revision.justification}" if revision.justification else ""))
    say()
    say(revision.text)


def cmd_history(args: argparse.Namespace) -> None:
    from agenda import snapshot

    snapshot.defer_keeping()  # after the output: a read-only command
    ws = open_workspace(args)
    item = snapshot.item(ws, _summit(ws, args), _as(args), args.item)
    history = item.history
    if args.json:
        say_json([revision_json(r, item.accepted_by) for r in history])
        return
    say(f"{item.number} {item.title} — {item.status}")
    for r in history:
        accepted = ", ".join(sorted(item.accepted_by(r))) if r.tabled else ""
        say(f"  {r.label:<4} {r.short} {r.delegation:<4} {r.code.value:<4} "
            f"{r.visibility.value:<8} {when(r.created)}"
            + (f" (was {r.was})" if r.was else "")
            + ("  tabled after the item became final" if r.after_final else "")
            + (f"  accepted by {accepted}" if accepted else "")
            + (f"\n       {r.justification}" if r.justification else ""))
    for d in item.decisions:
        what = f"confirmed by {d.delegation}'s capital" if d.action == "confirm" else \
            f"{d.action} by {d.delegation or 'the workspace'}"
        say(f"  {when(d.created)}  {what}" + (f" (void: {d.void})" if d.void else ""))


def cmd_log(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
    state = ws.state(_summit(ws, args), _as(args))
    events = state.events[-args.limit:] if args.limit else state.events
    if args.json:
        say_json([{"created": to_iso(e.created), "actor": e.actor, "action": e.action,
                   "item": e.item, "detail": e.detail, "uuid": e.uuid} for e in events])
        return
    for e in events:
        say(f"{to_iso(e.created)[:19].replace('T', ' ')}  {e.actor or '--':<4} {e.detail}")


def cmd_move(args: argparse.Namespace) -> None:
    ws = _keeping_later(open_workspace(args))
    slug = _summit(ws, args)
    actor = _as(args) or ""
    if args.up or args.down:
        item = ws.shift_item(slug, args.item, -1 if args.up else 1, actor=actor)
    elif args.section is not None or args.position is not None:
        item = ws.move_item(slug, args.item, section=args.section, position=args.position,
                            actor=actor)
    else:
        fail("Say where: --up, --down, --section NAME and/or --position N", 2)
    say(item.number)


def cmd_retitle(args: argparse.Namespace) -> None:
    ws = _keeping_later(open_workspace(args))
    item = ws.retitle_item(_summit(ws, args), args.item, args.title, actor=_as(args) or "")
    say(f"{item.number} {item.title}")


def cmd_section(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
    slug = _summit(ws, args)
    if args.position is None:
        ws.add_section(slug, args.title, actor=_as(args) or "")
    else:
        ws.move_section(slug, args.title, args.position, actor=_as(args) or "")
    for index, section in enumerate(ws.state(slug).summit.sections, start=1):
        say(f"{index}. {section.title}")


def _revision_for(state: Any, item: Any, ref: str) -> Revision:
    """A revision label (v2, d1) or a delegation code (that side's current position)."""
    if ref.upper() in state.summit.codes:
        position = state.positions(item).get(ref.upper())
        if position is None:
            raise AgendaError(f"{ref.upper()} has no tabled text on item {item.number}")
        return position
    return state.revision(item, ref)


def _use_colour(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def cmd_diff(args: argparse.Namespace) -> None:
    from agenda import diff, diff_render

    ws = open_workspace(args)
    state = ws.state(_summit(ws, args), _as(args))
    item = state.item(args.item)
    names: tuple[str, str] | None = None
    if args.b is not None:
        old, new = _revision_for(state, item, args.a), _revision_for(state, item, args.b)
    elif args.a is not None:
        # One revision: compare it with the text it answered.
        new = _revision_for(state, item, args.a)
        if not new.parents:
            raise AgendaError(f"{new.label} is the first text of item {item.number}; give "
                              "two revisions to compare")
        old = state.revision(item, new.parents[0])
    else:
        codes = list(state.positions(item))
        if len(codes) < 2:
            raise AgendaError(f"Only {', '.join(codes) or 'no delegation'} has a position on "
                              f"item {item.number}; give two revisions, e.g. v1 v2")
        old, new = (_revision_for(state, item, c) for c in codes[:2])
        names = (codes[0], codes[1])
    ops = diff.diff(old.text, new.text, mode="line" if args.format == "unified" else "word")
    names = names or (old.delegation, new.delegation)
    labels = (f"{names[0]} {old.label}", f"{names[1]} {new.label}")
    fmt = args.format
    if fmt == "json":
        say_json(diff_render.ops_to_json(ops))
        return
    if fmt == "unified":
        say(diff_render.render_unified(old.text, new.text, from_label=labels[0],
                                       to_label=labels[1]).rstrip("\n"))
        return
    if fmt == "critic":
        say(diff_render.render_critic(ops))
        return
    if fmt == "html":
        say(diff_render.render_html(ops))
        return
    stats = diff.diff_stats(ops)
    say(f"{item.number} {item.title}: {labels[0]} → {labels[1]} · similarity "
        f"{stats.similarity:.0%} · +{stats.words_added} −{stats.words_deleted} "
        f"~{stats.words_changed} words")
    colour = _use_colour(args.color)
    if fmt == "side":
        width = max(20, (_terminal_width() - 3) // 2)
        for row in diff_render.side_by_side(ops):
            left = _cells(row.left, colour, width)
            right = _cells(row.right, colour, width)
            for l_line, r_line in zip_longest(left, right, fillvalue=" " * width):
                sys.stdout.write(f"{l_line} │ {r_line}\n")
        return
    # render_ansi makes user text inert itself; its SGR codes are ours.
    shown = diff_render.render_ansi(ops) if colour else inert(diff_render.render_word(ops))
    sys.stdout.write(shown + "\n")


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def _cells(segments: Sequence[Any], colour: bool, width: int) -> list[str]:
    """One side of a side-by-side row, wrapped to width and padded to it.

    Colour is used when the side fits on one line; a wrapped line could cut an escape code,
    so longer sides show their changes with the plain {-old-}{+new+} marks.
    """
    import textwrap

    from agenda.diff_render import render_ansi, render_word

    plain = inert("".join(op.text for op in segments))
    if colour and len(plain) <= width:
        return [render_ansi(list(segments)) + " " * (width - len(plain))]
    marked = inert(render_word(list(segments)))
    return [line.ljust(width) for line in textwrap.wrap(marked, width) or [""]]


def cmd_merge(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
    slug = _summit(ws, args)
    if args.table:
        code = _need_as(args, "merge --table")
        revision = ws.table_compilation(slug, args.item, delegation=code, base=args.base)
        state = ws.state(slug, code)
        say(f"{revision.label} tabled (CMP) with {state.bracket_count(state.item(args.item))} "
            "brackets")
        return
    compiled = ws.compile(slug, args.item, base=args.base, viewer=_as(args))
    base = compiled.base.label if compiled.base else "nothing"
    sides = ", ".join(f"{c} {r.label}" for c, r in compiled.positions.items())
    how = "agreed base" if compiled.agreed_base else "no agreed base: every difference bracketed"
    sys.stderr.write(inert(f"Compilation of {sides} against {base} ({how}): "
                           f"{compiled.result.brackets} bracket(s)") + "\n")
    say(compiled.result.text)


def cmd_brackets(args: argparse.Namespace) -> None:
    from agenda.brackets import check

    ws = open_workspace(args)
    state = ws.state(_summit(ws, args), _as(args))
    items = [state.item(args.item)] if args.item else list(state.items)
    rows = [(i, state.bracket_count(i), check(state.current_text(i))) for i in items]
    if args.json:
        say_json({"items": [{"number": i.number, "title": i.title, "brackets": n,
                             "problems": problems} for i, n, problems in rows],
                  "total": sum(n for _, n, _ in rows)})
        return
    for item, count, problems in rows:
        say(f"{item.number:<5} {count:>3}  {item.title}")
        for problem in problems:
            say(f"        ! {problem}")
    say(f"{'total':<5} {sum(n for _, n, _ in rows):>3}")


def cmd_check(args: argparse.Namespace) -> None:
    from agenda.integrity import check

    ws = open_workspace(args)
    problems = check(ws)
    if args.json:
        say_json([{"summit": p.summit, "item": p.item, "revision": p.revision,
                   "problem": p.message} for p in problems])
    else:
        for problem in problems:
            say(str(problem))
        summits = len(ws.summits())
        say(f"{len(problems)} problem(s) in {summits} summit(s)" if problems else
            f"ok: every hash, parent link, acceptance and event checks out ({summits} summits)")
    if problems:
        raise SystemExit(1)


def cmd_backup(args: argparse.Namespace) -> None:
    from agenda.backup import backup

    ws = open_workspace(args)
    dest = args.output or Path(f"{ws.path.stem}-{now_utc():%Y%m%d-%H%M%S}.backup")
    say(str(backup(ws, dest)))


def cmd_restore(args: argparse.Namespace) -> None:
    from agenda.backup import read_backup, restore

    path = workspace_path(args)
    files = read_backup(args.file)  # refuse a bad backup before asking anything
    if not args.yes:
        if not sys.stdin.isatty():
            fail("restore replaces the workspace; confirm with --yes when not at a terminal", 2)
        answer = input(f"Replace {path} with {args.file} ({len(files) - 1} summit file(s))? "
                       "The current files are kept aside. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            fail("Nothing restored")
    ws = _tidied(Workspace(path, create=True))
    aside = restore(ws, args.file)
    say(f"restored {args.file}; the replaced files are in {aside}")


def cmd_demo(args: argparse.Namespace) -> None:
    from agenda.demo import DEMO_SLUG, build_demo

    path = getattr(args, "db", None) or paths.demo_path()
    ws = Workspace(path, create=True)
    if args.reset:
        ws = reset_demo(ws)
    if DEMO_SLUG not in {e.slug for e in ws.summits()}:
        build_demo(ws)
    if args.no_open:
        say(str(ws.path))
        return
    _open_tui(ws.path, DEMO_SLUG, _as(args))


def reset_demo(ws: Workspace) -> Workspace:
    """Delete and rebuild a workspace that holds only the demo; refuse to touch anything else."""
    from agenda.demo import DEMO_SLUG

    others = [e.slug for e in ws.summits() if e.slug != DEMO_SLUG]
    if others:
        fail(f"--reset deletes the whole demo workspace, and {ws.path} also holds "
             f"{', '.join(others)}; use a separate --db for the demo")
    path = ws.path
    ws.close()
    for demo_file in ws.files()[1:]:
        demo_file.unlink(missing_ok=True)
    path.unlink(missing_ok=True)
    return Workspace(path, create=True)


def cmd_open(args: argparse.Namespace) -> None:
    _open_tui(workspace_path(args), getattr(args, "summit", None), _as(args))


def _open_tui(path: Path, summit: str | None, as_: str | None) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail("The workspace app needs a terminal (standard input and output are not one); "
             "for scripts use the subcommands: see `summit --help`", 2)
    try:
        from tui.app import run
    except ImportError as exc:
        fail(f"The terminal interface cannot start ({exc}); the subcommands still work: "
             "see `summit --help`")
    from agenda.state import keep_after_bulk

    keep_after_bulk(False)  # the app lives on: what it reads must be collected once garbage
    run(path, summit=summit, as_=as_)


# Parser ------------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace], None]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("summit-agenda")
    except PackageNotFoundError:
        return "(not installed)"


class _VersionAction(argparse.Action):
    """--version: importlib.metadata costs a sixth of a command's start, so only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        sys.stdout.write(f"{PROG} {_version()}\n")
        parser.exit(0)


class _Unbuilt:
    """Stands in for the parser of a command that was not chosen: its options are skipped.

    Each argparse parser asks gettext for its headings, and gettext searches the disk for
    catalogues every time: building all 27 took longer than most commands' own work. Only
    the chosen command needs its parser.
    """

    def __getattr__(self, name: str) -> Callable[..., _Unbuilt]:
        return lambda *args, **kw: self


_GLOBAL_WITH_VALUE = ("--db", "--summit", "--as")


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv (the first word that is no option or option value)."""
    words = iter(argv)
    for word in words:
        if word in _GLOBAL_WITH_VALUE:
            next(words, None)
        elif word in ("-h", "--help", "--"):
            # The list of commands is wanted, or argparse's own reading of `--`: build all.
            return None
        elif not word.startswith("-"):
            return word
    return None


# The commands cli_documents adds (the lazy parser's hypothesis test keeps this true).
DOCUMENT_COMMANDS = frozenset({"export", "import", "templates"})


def build_parser(chosen: str | None | bool = True) -> argparse.ArgumentParser:
    """The whole parser; with `chosen` a command's name, only that command's parser.

    With None (no command given: help, or the app), every command is listed but none built.
    """
    parser = Parser(
        prog=PROG,
        description="Summit Agenda: draft, negotiate and export a summit's agenda. With no "
                    "command, opens the terminal workspace.",
        epilog="Start with `summit demo` to explore the India–Russia demo summit.",
    )
    parser.add_argument("--db", metavar="PATH", type=Path, default=None,
                        help=f"workspace file (default: ${ENV_DB}, else the user data folder)")
    parser.add_argument("--summit", metavar="SLUG", default=None, help="which summit")
    parser.add_argument("--as", dest="as_", metavar="CODE", default=None,
                        help="act as this delegation")
    parser.add_argument("--version", action=_VersionAction)
    parser.set_defaults(handler=cmd_open)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    common = _common()

    def command(name: str, handler: Handler, help_: str, **kw: Any) -> Any:
        if chosen is None:
            sub.add_parser(name, help=help_, add_help=False)
            return _Unbuilt()
        if chosen is not True and name != chosen:
            return _Unbuilt()
        p = sub.add_parser(name, parents=[common], help=help_, description=help_, **kw)
        p.set_defaults(handler=handler)
        return p

    p = command("new", cmd_new, "create a summit")
    p.add_argument("title")
    p.add_argument("--delegation", action="append", type=_delegation, required=True,
                   metavar="CODE=NAME[:HEAD]", help="a delegation (repeat for each)")
    p.add_argument("--chair", type=_delegation, metavar="CODE=NAME[:HEAD]",
                   help="a chair, who may table texts (e.g. compilations) but is no party")
    p.add_argument("--slug", help="short name used by --summit (default: from the title)")
    p.add_argument("--venue", default="")
    p.add_argument("--dates", default="")
    p.add_argument("--section", action="append", metavar="TITLE",
                   help="a section of the agenda (repeat; default: the usual seven)")
    p.add_argument("--template", metavar="NAME",
                   help="lay the summit out from a starter agenda (see `summit templates`); "
                        "its items are proposed by --as, else the first delegation")
    p.add_argument("--template-dir", type=Path, help="a folder of your own templates")

    p = command("summits", cmd_summits, "list the summits of the workspace")
    p.add_argument("--json", action="store_true")

    p = command("items", cmd_items, "list the agenda items with status and bracket counts")
    p.add_argument("--json", action="store_true")

    p = command("add", cmd_add, "propose a new item (its text is tabled as an ADD)")
    p.add_argument("--section", required=True, help="section title or number")
    p.add_argument("--title", required=True)
    p.add_argument("--why", default="", help="justification")
    p.add_argument("--tag", action="append", help="a tag (repeat)")
    _text_source(p)

    p = command("table", cmd_table, "table (or draft) a new revision of an item's text")
    p.add_argument("item", help="item number, e.g. 2.3")
    p.add_argument("--code", default="MOD", choices=["MOD", "SUP", "NOC"], type=str.upper,
                   help="change code: MOD modify, SUP suppress, NOC restate the other side's "
                        "text unchanged (default: MOD)")
    p.add_argument("--why", default="", help="justification")
    p.add_argument("--internal", action="store_true",
                   help="save as an internal draft, seen only by your delegation")
    _text_source(p)

    p = command("accept", cmd_accept, "accept a tabled revision (default: the latest)")
    p.add_argument("item")
    p.add_argument("revision", nargs="?", help="e.g. v3, or its short id #7f3a2c")
    p.set_defaults(trailing=("revision",))

    p = command("status", cmd_status, "change an item's status")
    p.add_argument("item")
    p.add_argument("status", type=_status, metavar="STATUS",
                   help=", ".join(s.value for s in Status))

    p = command("undo", cmd_undo, "take back your last operation, if it has not left this "
                                  "machine and nothing builds on it")
    p.add_argument("--dry-run", action="store_true", help="only say what would be undone")

    p = command("note", cmd_note, "add a private note (seen only by your delegation)")
    p.add_argument("item")
    p.add_argument("note_text", nargs="?", metavar="TEXT")
    p.set_defaults(trailing=("note_text",))
    p.add_argument("--file", type=Path, help="read the note from a file")

    p = command("notes", cmd_notes, "list your delegation's notes on an item")
    p.add_argument("item")
    p.add_argument("--json", action="store_true")

    p = command("show", cmd_show, "show an item and one revision's text (default: the latest)")
    p.add_argument("item")
    p.add_argument("revision", nargs="?", help="e.g. v2, #7f3a2c, or d1 for your internal draft")
    p.set_defaults(trailing=("revision",))
    p.add_argument("--json", action="store_true")

    p = command("history", cmd_history, "list every revision of an item you may see")
    p.add_argument("item")
    p.add_argument("--json", action="store_true")

    p = command("log", cmd_log, "the summit's event log (audit trail)")
    p.add_argument("--limit", type=int, default=0, help="only the last N events")
    p.add_argument("--json", action="store_true")

    p = command("move", cmd_move, "move an item up, down, or to another section")
    p.add_argument("item")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--up", action="store_true")
    where.add_argument("--down", action="store_true")
    p.add_argument("--section", help="target section (title or number)")
    p.add_argument("--position", type=int, help="1-based position in the section")

    p = command("retitle", cmd_retitle, "change an item's title")
    p.add_argument("item")
    p.add_argument("title")

    p = command("section", cmd_section, "add a section, or move one with --position")
    p.add_argument("title", help="section title (or number, with --position)")
    p.add_argument("--position", type=int)

    p = command("diff", cmd_diff, "show the differences between two texts of an item")
    p.add_argument("item")
    p.add_argument("a", nargs="?", help="revision (v2, d1) or delegation code (IN = its "
                                        "current position); default: the first two positions")
    p.add_argument("b", nargs="?", help="revision or delegation code")
    p.set_defaults(trailing=("a", "b"))
    p.add_argument("--format", default="word",
                   choices=["word", "unified", "side", "critic", "html", "json"])
    p.add_argument("--color", "--colour", default="auto", choices=["auto", "always", "never"])

    p = command("merge", cmd_merge, "print (or table) the compilation text of the positions")
    p.add_argument("item")
    p.add_argument("--base", help="merge against this revision (default: the last agreed text)")
    p.add_argument("--table", action="store_true", help="table it as a CMP revision (needs --as)")

    p = command("brackets", cmd_brackets, "count square brackets per item and in total")
    p.add_argument("item", nargs="?")
    p.set_defaults(trailing=("item",))
    p.add_argument("--json", action="store_true")

    p = command("check", cmd_check, "verify every hash, parent link, acceptance and event "
                                    "(exit 1 on any problem)")
    p.add_argument("--json", action="store_true")

    p = command("backup", cmd_backup, "write a consistent snapshot of the workspace")
    p.add_argument("-o", "--output", type=Path, help="backup file (default: in this folder)")

    p = command("restore", cmd_restore, "put a backup in place of the workspace")
    p.add_argument("file", type=Path)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = command("demo", cmd_demo, "build the India–Russia demo summit and open it")
    p.add_argument("--reset", action="store_true", help="rebuild the demo from scratch")
    p.add_argument("--no-open", action="store_true", help="only build it and print its path")

    # Imported only when one of its commands, or the list of all, is wanted.
    if chosen in (None, True) or chosen in DOCUMENT_COMMANDS:
        from agenda import cli_documents

        cli_documents.add_parsers(command)
    # Always: it also gives the write commands the workspace's home delegation by default.
    from agenda import cli_exchange

    cli_exchange.add_commands(sub, command)

    if isinstance(chosen, str) and chosen not in sub.choices:
        return build_parser(None)  # a mistyped command: the error lists them all
    return parser


def _translations_found_once() -> None:
    """argparse asks gettext for each message it builds, and with no catalogue installed (the
    usual case) gettext searches the locale folders again for every one: search once."""
    import gettext

    domain = gettext.textdomain()
    folder = gettext.bindtextdomain(domain)
    if not os.path.isdir(folder) or not any(
            os.environ.get(name) for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")):
        # No catalogue can be found (gettext looks in that folder only, and in no language
        # but C without these variables): no search, and no `locale` module imported for it.
        found: Any = gettext.NullTranslations()
    else:
        found = gettext.translation(domain, folder, fallback=True)
    setattr(argparse, "_", found.gettext)  # noqa: B010
    setattr(argparse, "ngettext", found.ngettext)  # noqa: B010


# Options whose value is free text: a text may begin with "-" ("- 5 % tariffs", "-x"), which
# argparse would read as an option and refuse ("expected one argument").
_FREE_TEXT = frozenset({"--text", "--why", "--title", "--venue", "--dates", "--tag", "--name"})


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string the parser and its (built) subparsers know."""
    found = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


def _attach_dash_texts(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """`--text -x` as `--text=-x`: a value that begins with "-" but names no option is the
    text. One that names an option (`--text --as IN`) is left for argparse to refuse."""
    known: set[str] | None = None
    out: list[str] = []
    words = iter(argv)
    for word in words:
        out.append(word)
        if word == "--":
            out.extend(words)
            break
        if word in _FREE_TEXT:
            value = next(words, None)
            if value is None:
                break
            if value.startswith("-") and value != "--":
                if known is None:
                    known = _option_strings(parser)
                if value.split("=", 1)[0] not in known:
                    out[-1] = f"{word}={value}"
                    continue
            out.append(value)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    _translations_found_once()
    parser = build_parser(chosen_command(argv))
    args, extras = parser.parse_known_args(_attach_dash_texts(argv, parser))
    # argparse fills optional positionals only before the first option, so
    # `summit note 1.1 --as IN "text"` would leave "text" over: place it where it belongs.
    # After `--` every word is a value, even one that begins with "-".
    dashed = False
    for dest in getattr(args, "trailing", ()):
        if extras and extras[0] == "--" and not dashed:
            extras.pop(0)
            dashed = True
        if extras and getattr(args, dest) is None and (dashed or not extras[0].startswith("-")):
            setattr(args, dest, extras.pop(0))
    if extras:
        hint = ""
        if any(e.startswith("-") and e != "-" for e in extras):
            hint = (" (a text that begins with '-' goes after '--', as in "
                    "`summit note 1.1 -- -text`, or as --text=-text)")
        parser.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
    _opened.clear()
    kept = sys.modules.get("agenda.snapshot")
    if kept is not None:
        kept.drop_deferred()  # an earlier command in this process (the tests) failed
    from agenda import store

    store.notify_waiting = _warn  # a writer waiting over a second is told who holds the lock
    try:
        args.handler(args)
        sys.stdout.flush()
        _finish_keeping()
        take_daily_backups()
    except AgendaError as exc:
        fail(str(exc))
    except BrokenPipeError:
        # `summit history 1.1 | head`: the reader left; that is not an error.
        sys.stderr.close()
        raise SystemExit(0) from None
    except OSError as exc:
        # A full disk, a read-only folder, a file we may not read: the store wrote the whole
        # operation or nothing, so one line says which file and that nothing changed.
        where = exc.filename or workspace_path(args)
        fail(f"{where}: {exc.strerror or exc}; nothing was changed")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # Valid JSON of the wrong shape reaches code that trusts it; it is still one line.
        fail(f"{workspace_path(args)} (or one of its summit files) holds a record of an "
             f"unexpected shape ({type(exc).__name__}: {exc}); nothing was changed. Restore "
             "it from a backup (summit restore FILE)")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
