"""`python -m agenda` and the `summit` script: the command line, started cheaply."""

import gc


def run() -> None:
    # Importing the core makes tens of thousands of objects that live as long as the process
    # (functions, classes, code); collections during the import would walk them again and
    # again. Collect nothing while importing, then keep them out of every later collection.
    gc.disable()
    try:
        from agenda.cli import main
    finally:
        gc.freeze()
        gc.enable()
    main()


if __name__ == "__main__":
    run()
