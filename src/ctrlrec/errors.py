"""Errors a user can cause. The CLI prints their message alone (no stack trace) and exits 2."""


class CtrlrecError(Exception):
    """A problem with the user's input, named with what was expected."""


class InputFileError(CtrlrecError):
    """A missing, unreadable or malformed input file."""

    def __init__(self, path, expected: str, detail: str = ""):
        self.path = str(path)
        msg = f"{self.path}: {detail + '; ' if detail else ''}expected {expected}"
        super().__init__(msg)


class Interrupted(BaseException):
    """Ctrl-C, raised by the CLI's SIGINT handler with a line saying what was kept.

    A BaseException (like KeyboardInterrupt) so no `except Exception` swallows it, but not a
    KeyboardInterrupt, which Typer turns into a silent exit 130.
    """

    def __init__(self, message: str = "interrupted"):
        super().__init__(message)


def raise_interrupted(signum=None, frame=None) -> None:
    raise Interrupted()


def on_ctrl_c() -> None:
    """Make Ctrl-C raise Interrupted (the CLI prints its one line and exits 130)."""
    import signal

    signal.signal(signal.SIGINT, raise_interrupted)
