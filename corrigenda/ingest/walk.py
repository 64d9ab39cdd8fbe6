"""From one `inputs.paths` entry (a file, a folder or a glob) to the files it names, safely.

`glob.glob(recursive=True)` follows symlinked folders without remembering where it has been, so a link back to a
parent (`a -> ..`) makes `docs/**` run forever; `Path.rglob` silently skips folders it may not read. This walker
follows symlinked folders but enters each real folder once, and reports every folder it cannot read.
Glob semantics match `glob.glob(recursive=True)`: `*`, `?` and `[...]` match within one name, `**` matches any
number of folders, and wildcards do not match names that start with a dot. Below an entry's fixed part (`docs/` in
`docs/**/*.md`), hidden names are never read, even when spelled out: they are version control and editor files.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

# Called with a path that cannot be used, why, and whether it is a folder.
OnSkip = Callable[[Path, str, bool], None]


def os_reason(exc: OSError) -> str:
    """A short, stable reason for the ingestion report."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return f"cannot read: {exc.strerror or exc}"


def special_file(path: Path) -> str | None:
    """What a path the user named is when it is neither a regular file nor a folder (a pipe, a socket, a device):
    reading one waits for a writer forever (a FIFO) or never ends (/dev/zero). None for anything else, a missing
    path included: the read that follows names that."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"{kind}, not a regular file"


def open_problem(path: Path) -> str | None:
    """Why the file cannot be opened for reading, or None. Opening is the only honest test: `os.access` answers for
    the real uid, ignores ACLs and says yes to root on read-only or FUSE mounts."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return os_reason(exc)
    os.close(fd)
    return None


def _link_problem(path: str) -> str:
    """Why a symlink names nothing to read: it loops, or its target is gone."""
    try:
        os.stat(path)
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
    return "not a regular file or folder"


def _name_matches(pattern: str, name: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def glob_match(pattern: Sequence[str], parts: Sequence[str], is_dir: bool = True) -> bool:
    """Whether a relative path (its names) matches a glob pattern (its names), `**` spanning any folders. As in
    `glob`, a trailing `**` that spans nothing names the folder before it (`docs/**` matches `docs/`), not a file."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        for skip in range(len(parts) + 1):
            if skip and parts[skip - 1].startswith("."):
                return False
            if not rest and skip == 0 and parts == () and not is_dir:
                continue
            if glob_match(rest, parts[skip:], is_dir):
                return True
        return False
    return bool(parts) and _name_matches(head, parts[0]) and glob_match(rest, parts[1:], is_dir)


def _may_match_below(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether anything under folder `parts` can match: prunes the walk for patterns without `**`."""
    if "**" in pattern:
        return True
    return len(parts) < len(pattern) and all(_name_matches(p, n) for p, n in zip(pattern, parts, strict=False))


def walk(root: Path, pattern: Sequence[str] | None, on_skip: OnSkip) -> tuple[list[Path], bool]:
    """Files under `root` (all of them, or those inside something matching `pattern`), hidden names skipped, each
    real folder entered once. Also returns whether the pattern matched anything at all (a folder or a file)."""
    files: list[Path] = []
    matched = pattern is None or glob_match(pattern, ())
    visited: set[tuple[int, int]] = set()
    stack: list[tuple[Path, tuple[str, ...], bool]] = [(root, (), matched)]
    while stack:
        folder, parts, inside = stack.pop()
        try:
            info = folder.stat()
            key = (info.st_dev, info.st_ino)
            if key in visited:
                continue
            visited.add(key)
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):  # a glob's fixed part that is not there; or gone meanwhile
            continue
        except OSError as exc:
            on_skip(folder, os_reason(exc), True)
            matched = matched or not parts  # the entry names this folder; it just cannot be read
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = (*parts, entry.name)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()  # both follow symlinks
            except OSError:
                is_dir = is_file = False
            child_inside = inside or (pattern is not None and glob_match(pattern, child, is_dir))
            matched = matched or child_inside
            if child_inside and not (is_dir or is_file):  # the user meant to include it: say why it is not read
                why = _link_problem(entry.path) if entry.is_symlink() else "not a regular file or folder"
                on_skip(Path(entry.path), why, False)  # a dangling or looping link, a named pipe, a socket
                continue
            if is_dir and (child_inside or (pattern is not None and _may_match_below(pattern, child))):
                folders.append((Path(entry.path), child, child_inside))
            elif is_file and child_inside:
                files.append(Path(entry.path))
        stack.extend(reversed(folders))
    return files, matched


def walk_entry(entry: str, base: Path, on_skip: OnSkip) -> list[Path] | None:
    """The files one `inputs.paths` entry names, or None when it names nothing (no such file, folder or match)."""
    full = base / entry
    if glob.has_magic(entry):
        names = full.parts
        first = next(i for i, name in enumerate(names) if glob.has_magic(name))
        files, matched = walk(Path(*names[:first]), names[first:], on_skip)
        return files if matched else None
    try:
        mode = full.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        on_skip(full, os_reason(exc), False)
        return []
    if stat.S_ISDIR(mode):
        return walk(full, None, on_skip)[0]
    if stat.S_ISREG(mode):
        return [full]
    on_skip(full, "not a regular file or folder", False)
    return []
