"""What the `corrigenda` command needs before its slow imports (openai, pydantic: about two seconds) begin."""

from __future__ import annotations

import os
import sys
from types import TracebackType


def quiet_interrupt_at_start() -> None:
    """Ctrl-C while the `corrigenda` command still imports its modules (about two seconds) ends with one line and
    exit 130, like Ctrl-C later on, not a traceback. Only in that process: a program importing corrigenda keeps its
    own handling."""
    if os.path.basename(sys.argv[0]) != "corrigenda" and sys.argv[0] != "-m":  # -m: `python -m corrigenda`
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            print("interrupted while starting: nothing was read or requested", file=sys.stderr)
        else:
            previous(kind, error, trace)

    sys.excepthook = hook


quiet_interrupt_at_start()
