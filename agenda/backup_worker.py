"""`python -m agenda.backup_worker`: a daily backup taken apart from the command that found it due.

Started by backup.daily_backup, holding the backups folder's lock on the inherited
`--lock-fd`; nothing here is meant to be run by hand.
"""

from __future__ import annotations

from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from agenda.backup import run_worker
    from agenda.detached import background, worker_args

    background()  # the next command goes first
    options, (workspace,) = worker_args(argv)

    run_worker(Path(workspace), Path(options["--folder"]), options["--day"],
               int(options["--lock-fd"]))


if __name__ == "__main__":
    main()
