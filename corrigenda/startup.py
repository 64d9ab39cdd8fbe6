"""What the `corrigenda` command needs before its slow imports (openai, pydantic: about two seconds) begin."""

from __future__ import annotations

import os
import signal
import sys

_held = False  # whether Ctrl-C is being held during the imports (only in the command's own process)
_pressed = False  # whether it was pressed meanwhile


def hold_ctrl_c_during_imports() -> None:
    """Ctrl-C while the `corrigenda` command still imports its modules is noted, not raised: a KeyboardInterrupt
    raised inside an import can surface as another error (pydantic-core wraps it in a SchemaError) with a
    traceback. `imports_done` acts on it. Only in that process: a program importing corrigenda keeps its own
    handling."""
    if os.path.basename(sys.argv[0]) != "corrigenda" and sys.argv[0] != "-m":  # -m: `python -m corrigenda`
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # ignored, or someone else's
        return
    global _held
    _held = True
    signal.signal(signal.SIGINT, _note_ctrl_c)


def _note_ctrl_c(_number: int, _frame: object) -> None:
    global _pressed
    _pressed = True


def imports_done() -> None:
    """Ctrl-C works as usual from here; if it was pressed during the imports, stop now with one line, exit 130."""
    global _held
    if not _held:
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _held = False
    if _pressed:
        print("interrupted while starting: nothing was read or requested", file=sys.stderr)
        raise SystemExit(130)


hold_ctrl_c_during_imports()
