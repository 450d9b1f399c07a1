"""Errors a user can cause. The CLI prints their message alone (no stack trace) and exits 2."""


class CtrlrecError(Exception):
    """A problem with the user's input, named with what was expected."""


class InputFileError(CtrlrecError):
    """A missing, unreadable or malformed input file."""

    def __init__(self, path, expected: str, detail: str = ""):
        self.path = str(path)
        msg = f"{self.path}: {detail + '; ' if detail else ''}expected {expected}"
        super().__init__(msg)
