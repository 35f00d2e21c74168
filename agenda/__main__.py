"""`python -m agenda` and the `summit` script: the command line, started cheaply."""

import gc
import os
import sys


def run(*, detach: bool = False) -> None:
    # Importing the core makes tens of thousands of objects that live as long as the process
    # (functions, classes, code); collections during the import would walk them again and
    # again. Collect nothing while importing, then keep them out of every later collection.
    gc.disable()
    try:
        from agenda.cli import main
        from agenda.state import keep_after_bulk
    finally:
        gc.freeze()
        gc.enable()
    keep_after_bulk()  # a command's read lives until the command ends (`summit open` undoes it)
    if detach:
        from agenda import cli

        cli.DETACH_KEEPING = True  # the keeping a read defers is left to a forked child
    main()


def script() -> None:
    """The `summit` script: `run()`, then, once the output is out, an exit that leaves the
    objects of the command to the operating system. Freeing them one by one, and the last
    collection, took a tenth of a command that read 20,000 items. Only when no thread of the
    app is still running (a normal exit waits for them, and they may be writing)."""
    run(detach=True)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return  # the reader left: the ordinary exit says nothing more of it
    threading = sys.modules.get("threading")
    if threading is None or threading.active_count() == 1:
        os._exit(0)


if __name__ == "__main__":
    script()
