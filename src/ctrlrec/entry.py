"""The `ctrlrec` executable: Ctrl-C gives one line and exit 130 at any moment, start-up included.

Importing the command tree takes seconds (pandas, typer, the stages' modules); a Ctrl-C meanwhile
would otherwise print a raw traceback from wherever the import was.
"""

import sys

from ctrlrec.errors import Interrupted, on_ctrl_c


def main() -> None:
    on_ctrl_c()
    try:
        from ctrlrec.cli import main as cli_main
    except Interrupted:
        print("interrupted while starting; nothing was done", file=sys.stderr)
        sys.exit(130)
    cli_main()
