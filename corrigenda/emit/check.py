"""`corrigenda check`: gate any existing dataset file or release directory, optionally with a real tokenizer.

With `--tokenizer`, each record is tokenized the way Axolotl's `input_output` strategy does it (each segment on its
own, no special tokens added, labels -100 on `label: false` segments), and records whose joined per-segment tokens
differ from tokenizing the whole text are reported: their boundaries split a token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corrigenda.emit.gate import GateProblem, file_problems
from corrigenda.emit.manifest import verify_manifest
from corrigenda.emit.writers import CHAT_FILE, MAIN_FILE


@dataclass
class TokenReport:
    trained_tokens: int = 0
    masked_tokens: int = 0
    boundary_mismatches: list[int] = field(default_factory=list)  # record indexes


@dataclass
class CheckResult:
    path: Path
    records: int = 0
    problems: list[str] = field(default_factory=list)
    tokens: TokenReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _load_records(path: Path) -> tuple[Any, list[str]]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), []
    except FileNotFoundError:
        return None, [f"{path}: no such file"]
    except UnicodeDecodeError as exc:
        return None, [f"{path}: not UTF-8 ({exc.reason})"]
    except json.JSONDecodeError as exc:
        return None, [f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]


def check_chat_lines(path: Path) -> tuple[int, list[str]]:
    """The chat_template file: every line has messages, and exactly one assistant message is not trained on."""
    problems, count = [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        count += 1
        try:
            messages = json.loads(line)["messages"]
            untrained = [m for m in messages if m["role"] == "assistant" and m["train"] is False]
            if len(untrained) != 1:
                problems.append(f"{path}:{number}: expected exactly one assistant message with train: false")
            if not any(
                m["train"] is True and m["role"] == "assistant" for m in messages[messages.index(untrained[0]) :]
            ):
                problems.append(f"{path}:{number}: no trained assistant message after the flawed one")
        except (json.JSONDecodeError, KeyError, TypeError, IndexError, ValueError) as exc:
            problems.append(f"{path}:{number}: malformed record ({type(exc).__name__}: {exc})")
    return count, problems


def tokenize_records(records: list[dict[str, Any]], tokenizer_path: Path) -> TokenReport:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise SystemExit(
            "check --tokenizer needs the `tokenizers` package: pip install 'corrigenda[tokenize]'"
        ) from None
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    report = TokenReport()
    for index, record in enumerate(records):
        joined: list[int] = []
        for segment in record["segments"]:
            ids = tokenizer.encode(segment["text"], add_special_tokens=False).ids
            joined += ids
            if segment["label"]:
                report.trained_tokens += len(ids)
            else:
                report.masked_tokens += len(ids)
        whole = "".join(segment["text"] for segment in record["segments"])
        if tokenizer.encode(whole, add_special_tokens=False).ids != joined:
            report.boundary_mismatches.append(index)
    return report


def check_path(path: Path, tokenizer: Path | None = None) -> CheckResult:
    """A release directory (manifest + main file + chat file) or a single dataset file."""
    result = CheckResult(path)
    main = path
    if path.is_dir():
        result.problems += verify_manifest(path)  # a release directory always has one
        main = path / MAIN_FILE
        if (path / CHAT_FILE).exists():
            _, chat_problems = check_chat_lines(path / CHAT_FILE)
            result.problems += chat_problems
        if not main.exists():
            result.problems.append(f"{path}: no {MAIN_FILE} in this directory")
            return result
    if main.suffix == ".jsonl":
        result.records, chat_problems = check_chat_lines(main)
        result.problems += chat_problems
        return result
    records, load_problems = _load_records(main)
    if load_problems:
        result.problems += load_problems
        return result
    problems: list[GateProblem] = file_problems(records)
    result.records = len(records) if isinstance(records, list) else 0
    result.problems += [f"{main}: {problem}" for problem in problems]
    if tokenizer is not None and not problems:
        result.tokens = tokenize_records(records, tokenizer)
    return result
