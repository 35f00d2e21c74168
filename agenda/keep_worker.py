"""`python -m agenda.keep_worker`: a summit read in full and its readings kept, apart from the
command whose commit released it (an import into a new summit, written out as it was made).

Started by snapshot.keep_changed, holding the keeping lock on the inherited `--lock-fd`, so
that one runs at a time and a bench can wait for it; nothing here is meant to be run by hand.
"""

from __future__ import annotations

import os
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from agenda.detached import background, worker_args

    options, (workspace, slug) = worker_args(argv)
    lock_fd = int(options["--lock-fd"])
    try:
        from agenda import snapshot
        from agenda.workspace import Workspace

        background()  # the next command, and its checker, go first
        snapshot.holding_keeping()
        snapshot.name_kept(lock_fd, None)  # with this pid
        ws = Workspace(Path(workspace))
        try:
            snapshot.items(ws, slug, None)  # kept data that names the file, else a full read
            # Each delegation's checkpoint too, so that its first write is served: folded
            # from the records read above, and kept only while the file is the one read
            # (its identity is dropped by any read of what was appended since).
            for actor in ws.summit(slug).actors:
                snapshot._full_read(ws, slug, actor.code)
        finally:
            ws.close()
    except Exception:  # noqa: BLE001, S110 - best effort: the next read reads in full, and
        pass  # says in its own words what is wrong with the file
    finally:
        os.close(lock_fd)


if __name__ == "__main__":
    main()
