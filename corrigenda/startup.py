"""What the `corrigenda` command needs before its slow imports (openai, pydantic: about two seconds) begin."""

from __future__ import annotations

import os
import signal
import sys

_pressed: list[bool] = []  # set while the imports run; only in the command's own process


def hold_ctrl_c_during_imports() -> None:
    """Ctrl-C while the `corrigenda` command still imports its modules is noted, not raised: a KeyboardInterrupt
    raised inside an import can surface as another error (pydantic-core wraps it in a SchemaError) with a
    traceback. `imports_done` acts on it. Only in that process: a program importing corrigenda keeps its own
    handling."""
    if os.path.basename(sys.argv[0]) != "corrigenda" and sys.argv[0] != "-m":  # -m: `python -m corrigenda`
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # ignored, or someone else's
        return
    _pressed.append(False)
    signal.signal(signal.SIGINT, lambda _number, _frame: _pressed.append(True))


def imports_done() -> None:
    """Ctrl-C works as usual from here; if it was pressed during the imports, stop now with one line, exit 130."""
    if not _pressed:
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if any(_pressed):
        print("interrupted while starting: nothing was read or requested", file=sys.stderr)
        raise SystemExit(130)
    _pressed.clear()


hold_ctrl_c_during_imports()
