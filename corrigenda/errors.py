"""Every condition a user causes or can fix, as one exception tree whose classes carry the process exit code.

The CLI catches `CorrigendaError` in one place and prints its message (never a traceback); any other exception is a
bug in corrigenda and keeps its traceback. Each message says what happened and what to do about it.

Exit codes (documented in the README):
    0  success
    1  the dataset failed its gate: nothing was released (`GateRefused`)
    2  bad spec, input, cache, output location or command line: fix it and rerun (`UsageError` and its children)
    3  an endpoint is unreachable or refuses us: everything finished is cached, rerun once it is back (`EndpointError`)
    4  the spending cap (`max_usd`) was reached: nothing new was sent, everything finished is cached (`BudgetReached`)
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BUDGET",
    "EXIT_ENDPOINT",
    "EXIT_GATE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "BudgetReached",
    "BuildLocked",
    "CacheError",
    "CorrigendaError",
    "EndpointDown",
    "EndpointError",
    "GateRefused",
    "InputError",
    "Interrupted",
    "OfflineMiss",
    "OutputError",
    "UsageError",
]

EXIT_OK = 0
EXIT_GATE = 1
EXIT_BAD_INPUT = 2
EXIT_ENDPOINT = 3
EXIT_BUDGET = 4
EXIT_INTERRUPTED = 130


class CorrigendaError(Exception):
    """Shown to the user: the message (what happened) and, when there is one, the hint (what to do)."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message

    def lines(self) -> list[str]:
        """What the CLI prints to stderr, one problem per line."""
        return [str(self)]


class GateRefused(CorrigendaError):
    """The records failed the schema gate or too many chunks failed: nothing was released."""

    exit_code = EXIT_GATE


class UsageError(CorrigendaError):
    """Something the user must fix before a rerun can succeed (exit 2)."""


class InputError(UsageError):
    """An input file or folder cannot be used (and the policy says stop), or an option is out of range."""


class CacheError(UsageError):
    """The call cache cannot be opened: corrupt, not SQLite, a newer schema, or its location unwritable."""


class OutputError(UsageError):
    """The output location cannot be written."""


class BuildLocked(UsageError):
    """Another build is writing the same release directory (it holds `.OUT.lock`, which names its pid)."""


class OfflineMiss(UsageError):
    """`--offline` and a call is not in the cache."""


class EndpointError(CorrigendaError):
    """An endpoint cannot be used: unreachable, not an OpenAI-compatible API, a bad key or an unknown model."""

    exit_code = EXIT_ENDPOINT


class EndpointDown(EndpointError):
    """An endpoint stopped answering mid-run; every finished call is cached and a rerun resumes."""


class Interrupted(CorrigendaError):
    """Ctrl-C: in-flight calls were cancelled; every finished call is cached, so a rerun pays only for the rest."""

    exit_code = EXIT_INTERRUPTED


class BudgetReached(CorrigendaError):
    """The spend plus what is in flight reached `max_usd`: no new work was sent, finished work is cached."""

    exit_code = EXIT_BUDGET
