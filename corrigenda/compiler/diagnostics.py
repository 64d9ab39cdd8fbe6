"""Problems found in a spec, located at the YAML node that caused them.

A user fixing a spec wants `spec/mine.yaml:12:5: models.large.concurrency: ...`, not a traceback, so every check in
the compiler reports through `Problem` and a `SourceMap` that remembers where each node of the YAML file stood.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from corrigenda.errors import UsageError

PathPart = str | int


def dotted(path: Sequence[PathPart]) -> str:
    """`("steps", 0, "model")` -> `steps[0].model`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    col: int
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.col}: {self.path}: {prefix}{self.message}"


class SpecError(UsageError):
    """Raised when a spec cannot be compiled; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.problems]


class SourceMap:
    """Line and column (1-based) of every node of a ruamel.yaml round-trip tree."""

    def __init__(self, file: Path | str, root: Any):
        self.file = str(file)
        self.root = root

    def locate(self, path: Sequence[PathPart], at_key: bool = False) -> tuple[int, int]:
        """Where `path` stands; a path that does not exist (a missing key) points at its nearest parent."""
        node = self.root
        line, col = 0, 0
        for part in path:
            lc = getattr(node, "lc", None)
            if lc is None:
                break
            try:
                if isinstance(part, int):
                    line, col = lc.item(part)
                    node = node[part]
                else:
                    if part not in node:
                        break
                    line, col = lc.key(part) if at_key else lc.value(part)
                    node = node[part]
            except (KeyError, IndexError, TypeError, AttributeError):
                break
        return line + 1, col + 1

    def problem(
        self,
        path: Sequence[PathPart],
        message: str,
        severity: Literal["error", "warning"] = "error",
        at_key: bool = False,
    ) -> Problem:
        line, col = self.locate(path, at_key=at_key)
        return Problem(self.file, line, col, dotted(path), message, severity)
