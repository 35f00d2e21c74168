"""Subcommands that produce and read documents: export, import, templates."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# agenda.cli imports this module while it loads, so its helpers are imported inside the
# handlers, once it is complete.


def add_parsers(command: Callable[..., Any]) -> None:
    """Register the document subcommands through cli.build_parser's `command` helper."""
    from agenda.cli import _delegation

    p = command("export", cmd_export,
                "export the summit as Markdown or HTML through a template (default: agenda)")
    p.add_argument("--template", default="agenda", metavar="NAME",
                   help="agenda, negotiating-text, redline, brief (needs --as), or one of "
                        "yours: see `summit templates`")
    p.add_argument("--format", choices=["md", "html"], default="md", type=str.lower,
                   help="Markdown (default) or a standalone HTML page")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write to FILE instead of standard output")
    p.add_argument("--template-dir", type=Path, metavar="DIR",
                   help="look for templates in DIR first")
    p.add_argument("--since", metavar="DATE",
                   help="redline: changes since DATE (2021-03-01 or 2021-03-01T10:00, UTC)")

    p = command("import", cmd_import,
                "import a Markdown agenda: headings become sections; lists, topic tables and "
                "sub-headings become items; what comes first gives the details and preamble; "
                "re-importing a revised file follows its edits, titles, order and removals",
                )
    p.add_argument("file", type=Path, metavar="FILE.md")
    p.add_argument("--title", help="create a new summit with this title (default: the file's "
                                   "title heading); needs --delegation")
    p.add_argument("--delegation", action="append", type=_delegation, default=[],
                   metavar="CODE=NAME[:HEAD]", help="a delegation of the new summit (repeat)")
    p.add_argument("--slug", help="short name of the new summit")
    p.add_argument("--venue", default="")
    p.add_argument("--dates", default="")
    p.add_argument("--depth", type=_depth, default=1, metavar="N",
                   help="list entries nested down to N levels become items (default 1: "
                        "nested entries stay in their item's text)")
    p.add_argument("--literal-brackets", action="store_true",
                   help="the agenda does not use [brackets] for disputed text: escape them")
    p.add_argument("--withdraw-missing", action="store_true",
                   help="items no longer in the file are withdrawn (yours) or given a SUP")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = command("templates", cmd_templates,
                "list export templates and starter agendas (built-in and your own)")
    p.add_argument("--template-dir", type=Path, metavar="DIR",
                   help="also list the templates in DIR (they come first)")
    p.add_argument("--json", action="store_true")


def _depth(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 9:
        raise argparse.ArgumentTypeError(f"{value!r} is not a depth from 1 to 9")
    return int(value)


def cmd_export(args: argparse.Namespace) -> None:
    from agenda.cli import _as, _summit, open_workspace, say
    from agenda.export import render

    ws = open_workspace(args)
    text = render(ws, _summit(ws, args), args.template, viewer=_as(args), fmt=args.format,
                  template_dir=args.template_dir, since=args.since)
    if args.output is not None:
        _write(args.output, text)
        sys.stderr.write(f"wrote {args.output}\n")
    elif sys.stdout.isatty():
        say(text.rstrip("\n"))
    else:
        # A pipe or a file gets the document byte for byte.
        sys.stdout.write(text)


def _write(path: Path, text: str) -> None:
    """Write the whole document or nothing, as the workspace writes its own files."""
    from agenda.cli import fail
    from agenda.store import atomic_write

    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        fail(f"Cannot write {path}: {exc.strerror or exc}")


def cmd_import(args: argparse.Namespace) -> None:
    from agenda.cli import _need_as, fail, open_workspace, say, say_json
    from agenda.importer import NotText, SourceLines, import_markdown, report_lines

    code = _need_as(args, "import")
    if args.title and not args.delegation:
        fail("A new summit needs its delegations: --delegation IN=India --delegation RU=Russia",
             2)
    try:
        text = SourceLines(args.file)  # read a window at a time: never held whole
    except NotText as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"Cannot read {args.file}: {exc.strerror or exc}")
    creating = bool(args.delegation)
    ws = open_workspace(args, create=creating)
    try:
        report = import_markdown(
            ws, text, delegation=code,
            slug=None if creating else getattr(args, "summit", None),
            title=args.title, delegations=args.delegation, venue=args.venue, dates=args.dates,
            new_slug=args.slug, source_name=args.file.name, depth=args.depth,
            literal_brackets=args.literal_brackets, withdraw_missing=args.withdraw_missing)
    finally:
        text.close()
    if args.json:
        say_json(report.to_json())
        return
    for line in report_lines(report, args.file.name,
                             brackets_hint="--literal-brackets if the agenda does not use "
                                           "them for disputed text"):
        say(line)


def cmd_templates(args: argparse.Namespace) -> None:
    from agenda.cli import say, say_json
    from agenda.paths import user_templates_dir
    from agenda.templates import list_templates

    found = list_templates(args.template_dir)
    if args.json:
        say_json([{"name": t.name, "kind": t.kind, "origin": t.origin, "path": str(t.path),
                   "view": t.view, "description": t.description} for t in found])
        return
    say("Export templates (summit export --template NAME):")
    for t in (t for t in found if t.kind == "export"):
        needs = " [needs --as]" if t.view == "delegation" else ""
        say(f"  {t.name:<24} {t.origin:<15} {t.description}{needs}")
    say("Starter agendas (summit new --template NAME):")
    for t in (t for t in found if t.kind == "starter"):
        say(f"  {t.name:<24} {t.origin:<15} {t.description}")
    say(f"Your own: NAME.md.j2 and NAME.md in {user_templates_dir()}")
