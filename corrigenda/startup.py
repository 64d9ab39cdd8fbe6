"""What the `corrigenda` command needs before its slow imports (pydantic, rich; openai where a model is called)."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
from types import ModuleType

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


def import_held(module: str) -> ModuleType:
    """Import a slow module where it is first needed (the openai client: about a second), so that commands which
    call no model never pay for it. As at start-up, a Ctrl-C meanwhile is raised once the import is done, never
    inside it."""
    if module in sys.modules:
        return sys.modules[module]
    if threading.current_thread() is not threading.main_thread():
        return importlib.import_module(module)
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # held already, ignored, or not ours
        return importlib.import_module(module)
    pressed = False

    def note(_number: int, _frame: object) -> None:
        nonlocal pressed
        pressed = True

    signal.signal(signal.SIGINT, note)
    try:
        loaded = importlib.import_module(module)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt
    return loaded


hold_ctrl_c_during_imports()
