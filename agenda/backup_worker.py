"""`python -m agenda.backup_worker`: a daily backup taken apart from the command that found it due.

Started by backup.daily_backup, holding the backups folder's lock on the inherited
`--lock-fd`; nothing here is meant to be run by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    options: dict[str, str] = {}
    while args and args[0] != "--":
        options[args[0]] = args[1]
        args = args[2:]
    (workspace,) = args[1:]
    from agenda.backup import run_worker

    run_worker(Path(workspace), Path(options["--folder"]), options["--day"],
               int(options["--lock-fd"]))


if __name__ == "__main__":
    main()
