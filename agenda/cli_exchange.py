"""The exchange's commands (keys, remote, sync, send, receive), registered on the main parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson

# Commands that write act as the home delegation of a bound workspace when --as is not given.
WRITE_COMMANDS = ("new", "add", "table", "accept", "status", "note", "notes", "merge", "move",
                  "retitle", "section", "import")


def add_commands(sub: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register the exchange commands; `command` is build_parser's helper."""
    for name in WRITE_COMMANDS:
        parser = sub.choices.get(name)
        if parser is not None:
            parser.set_defaults(handler=_home_default(parser.get_default("handler")))

    demo = sub.choices.get("demo")
    if demo is not None:
        demo.add_argument("--pair", type=Path, metavar="DIR",
                          help="build an India and a Russia workspace and a joint remote in "
                               "DIR, to try the exchange in two terminals")
        demo.set_defaults(handler=_pair_or(demo.get_default("handler")))

    p = command("keys", cmd_keys, "this delegation's keys, and the delegations it trusts")
    keys_sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    from agenda.cli import Parser  # the main parser's class, which starts without shutil

    common = Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--db", metavar="PATH", type=Path, help="workspace file")
    common.add_argument("--as", dest="as_", metavar="CODE", help="the home delegation")
    k = keys_sub.add_parser("init", parents=[common],
                            help="create the delegation's root key and this device's key")
    k.add_argument("--name", default="", help="the delegation's name, for its card")
    k = keys_sub.add_parser("show", parents=[common], help="delegation, fingerprint, device")
    k.add_argument("--json", action="store_true")
    k = keys_sub.add_parser("card", parents=[common], help="write the public card")
    k.add_argument("-o", "--output", type=Path, required=True)
    k = keys_sub.add_parser("trust", parents=[common],
                            help="pin another delegation's root key from its card")
    k.add_argument("card", type=Path)
    k.add_argument("--fingerprint", required=True,
                   help="the fingerprint as read aloud by the other delegation")
    k = keys_sub.add_parser("enrol", parents=[common],
                            help="a second machine: create its key and a request (-o), or "
                                 "install the certificate (--cert)")
    k.add_argument("-o", "--output", type=Path)
    k.add_argument("--cert", type=Path, help="the certificate from `summit keys certify`")
    k = keys_sub.add_parser("revoke", parents=[common],
                            help="revoke one of this delegation's devices (root key)")
    k.add_argument("device", help="the device id, or enough of its start")
    k = keys_sub.add_parser("certify", parents=[common],
                            help="certify another machine of this delegation (root key)")
    k.add_argument("request", type=Path)
    k.add_argument("-o", "--output", type=Path, required=True)

    p = command("remote", cmd_remote, "add a remote to sync with (joint, or --team)")
    remote_sub = p.add_subparsers(dest="remote_command", metavar="ACTION", required=True)
    r = remote_sub.add_parser("add", parents=[common], help="add a remote")
    r.add_argument("name")
    r.add_argument("url", help="a bare git repository: path, file://, ssh:// or https://")
    r.add_argument("--team", action="store_true",
                   help="the delegation's own remote: also carries internal drafts and notes")
    remote_sub.add_parser("list", parents=[common], help="list the remotes")

    p = command("sync", cmd_sync, "exchange records with a remote (default: every remote)")
    p.add_argument("remote", nargs="?")

    p = command("send", cmd_send, "write a packet of joint records for another delegation")
    p.add_argument("--to", required=True, metavar="CODE")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--no-encrypt", action="store_true",
                   help="for a channel already protected (a diplomatic bag)")
    p.add_argument("--full", action="store_true",
                   help="every joint record, not only those not sent to CODE before")

    p = command("receive", cmd_receive, "verify and import a packet")
    p.add_argument("file", type=Path)

    p = command("split", cmd_split, "one workspace per delegation from a shared workspace")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="a new (or empty) folder for the delegations' workspaces")
    p.add_argument("--keys", action="store_true",
                   help="also bind each workspace to its delegation and sign the baselines")

    p = command("baseline", cmd_baseline,
                "the history from before keys: show who confirmed it, or sign it")
    p.add_argument("action", nargs="?", choices=["show", "sign"], default="show")


@cache  # one wrapper per command, so every build of the parser gives the same handler
def _pair_or(handler: Callable[[argparse.Namespace], None]) -> Callable[..., None]:
    def run(args: argparse.Namespace) -> None:
        if getattr(args, "pair", None) is None:
            handler(args)
            return
        from agenda.cli import say
        from agenda.exchange.pair import build_pair

        paths = build_pair(args.pair)
        say(f"India's workspace:  {paths['IN']}")
        say(f"Russia's workspace: {paths['RU']}")
        say(f"joint remote:       {paths['joint']}")
        say(f"try:  summit --db {paths['RU']} table 1.1 --text \"…\"  &&  "
            f"summit --db {paths['RU']} sync  &&  summit --db {paths['IN']} sync")

    return run


@cache
def _home_default(handler: Callable[[argparse.Namespace], None]) -> Callable[..., None]:
    def run(args: argparse.Namespace) -> None:
        if not getattr(args, "as_", None):
            home = _home_of(args)
            if home:
                args.as_ = home
        handler(args)

    return run


def _home_of(args: argparse.Namespace) -> str | None:
    from agenda.paths import default_workspace_path
    from agenda.workspace import Workspace

    path = getattr(args, "db", None) or default_workspace_path()
    if not Path(path).exists():
        return None
    ws = Workspace(path)
    try:
        identity = ws.exchange_get("identity")
    finally:
        ws.close()
    return identity["home"] if identity else None


def _open(args: argparse.Namespace, *, create: bool = False) -> Any:
    from agenda.cli import open_workspace

    return open_workspace(args, create=create)


def _write_json(path: Path, value: Any) -> None:
    from agenda.cli import fail

    try:
        path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        fail(f"Cannot write {path}: {exc.strerror}")


def cmd_keys(args: argparse.Namespace) -> None:
    from agenda.cli import _as, fail, say, say_json
    from agenda.exchange import identity

    action = args.keys_command
    if action == "init":
        code = _as(args)
        if not code:
            fail("keys init needs --as CODE: which delegation is this workspace?", 2)
        ws = _open(args, create=True)
        fp = identity.init(ws, code, args.name)
        say(f"{code} root key fingerprint: {fp}")
        say("Read it aloud to the other delegations; they pin it with `summit keys trust`.")
    elif action == "show":
        shown = identity.show(_open(args))
        if args.json:
            say_json(shown)
        else:
            say(f"delegation  {shown['delegation']}")
            say(f"fingerprint {shown['fingerprint']}")
            say(f"device      {shown['device']}")
            for code, fp in shown["trusted"].items():
                say(f"trusts      {code} {fp}")
    elif action == "card":
        _write_json(args.output, identity.card(_open(args)))
        say(f"card written to {args.output}")
    elif action == "trust":
        ws = _open(args)
        doc = identity.read_json(args.card, "delegation card")
        fp = identity.trust(ws, doc, args.fingerprint)
        say(f"pinned {doc.get('delegation')} {fp}")
    elif action == "enrol":
        ws = _open(args, create=True)
        if getattr(args, "cert", None):
            fp = identity.install(ws, identity.read_json(args.cert, "certificate"))
            say(f"bound; home root key fingerprint {fp} (check it with your delegation)")
            return
        code = _as(args)
        if not code or not getattr(args, "output", None):
            fail("keys enrol needs --as CODE and -o REQUEST (or --cert FILE to finish)", 2)
        _write_json(args.output, identity.enrol(ws, code))
        say(f"request written to {args.output}; the root key holder runs "
            "`summit keys certify` on it")
    elif action == "revoke":
        device, count = identity.revoke(_open(args), args.device)
        say(f"device {device} revoked in {count} summit{'s' if count != 1 else ''}; sync to "
            "tell the others")
    elif action == "certify":
        ws = _open(args)
        answer = identity.certify(ws, identity.read_json(args.request, "enrolment request"))
        _write_json(args.output, answer)
        say(f"certificate written to {args.output}")


def cmd_remote(args: argparse.Namespace) -> None:
    from agenda.cli import say

    ws = _open(args)
    if args.remote_command == "add":
        from agenda.exchange import sync  # git and the keys: listing reads the workspace only

        sync.add_remote(ws, args.name, args.url, team=args.team)
        say(f"remote {args.name} added ({'team' if args.team else 'joint'})")
        return
    for name, spec in sorted(ws.exchange_get("remotes", {}).items()):
        say(f"{name}  {'team ' if spec['team'] else 'joint'}  {spec['url']}")


def cmd_sync(args: argparse.Namespace) -> None:
    from agenda.cli import say
    from agenda.exchange import sync

    ws = _open(args)
    report = sync.sync(ws, args.remote)
    _finish(report.lines(), report.refused, say)


def _finish(lines: list[str], refused: list[str], say: Callable[[str], None]) -> None:
    import sys

    from agenda.cli import PROG
    from agenda.text import inert

    for line in lines:
        say(line)
    for line in refused:
        sys.stderr.write(f"{PROG}: refused: {inert(line)}\n")
    if refused:
        raise SystemExit(1)


def cmd_send(args: argparse.Namespace) -> None:
    from agenda.cli import say
    from agenda.exchange import packets

    ws = _open(args)
    sent = packets.send(ws, args.to.strip().upper(), args.output,
                        encrypt=not args.no_encrypt, full=args.full)
    say(f"{sent.count} record{'s' if sent.count != 1 else ''} for {sent.to} written to "
        f"{args.output}{' (encrypted)' if sent.encrypted else ''}")


def cmd_receive(args: argparse.Namespace) -> None:
    from agenda.cli import say
    from agenda.exchange import packets

    ws = _open(args)
    report = packets.receive(ws, args.file)
    _finish(report.lines(), report.refused, say)


def cmd_split(args: argparse.Namespace) -> None:
    from agenda.cli import say
    from agenda.split import split

    report = split(_open(args), args.out, keyed=args.keys)
    for line in report.lines(args.keys):
        say(line)


def cmd_baseline(args: argparse.Namespace) -> None:
    from agenda.cli import say
    from agenda.split import baseline_status, sign_baselines

    ws = _open(args)
    if args.action == "sign":
        signed = sign_baselines(ws)
        say(f"signed the baseline of {', '.join(signed)}; sync to tell the others" if signed
            else "nothing to sign: every baseline here already carries this delegation's "
                 "signature")
        return
    shown = False
    for entry in ws.summits():
        for fp, have, missing in baseline_status(ws, entry.slug):
            shown = True
            waiting = f"; not yet confirmed by {', '.join(missing)}" if missing else ""
            say(f"{entry.slug}: baseline {fp}, confirmed by {have or 'nobody yet'}{waiting}")
    if not shown:
        say("no baseline: this workspace was not split from a shared one")
