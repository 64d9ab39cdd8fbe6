"""`corrigenda check`: gate any existing dataset file or release directory, optionally with a real tokenizer.

With `--tokenizer`, each record is tokenized the way Axolotl's `input_output` strategy does it (each segment on its
own, no special tokens added, labels -100 on `label: false` segments), and records whose joined per-segment tokens
differ from tokenizing the whole text are reported: their boundaries split a token. For a chat JSONL file the
messages' contents are counted instead (trained: `train: true`), without the chat template's markup, which only the
model's own template adds.

A path or tokenizer that cannot be used is an `InputError` (exit 2), not a failed gate: nothing was checked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from corrigenda.emit.gate import GateProblem, file_problems
from corrigenda.emit.manifest import MANIFEST, built_from, verify_manifest
from corrigenda.emit.schemas import SCHEMA_FILES, unknown_schemas
from corrigenda.emit.writers import CHAT_FILE, MAIN_FILE
from corrigenda.errors import InputError, UsageError
from corrigenda.ingest.walk import os_reason, special_file
from corrigenda.resources import schema_path


@dataclass
class TokenReport:
    trained_tokens: int = 0
    masked_tokens: int = 0
    boundary_mismatches: list[int] = field(default_factory=list)  # record indexes
    note: str | None = None  # what was counted, when it is not the input_output segments


@dataclass
class CheckResult:
    path: Path
    records: int = 0
    problems: list[str] = field(default_factory=list)
    tokens: TokenReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; a file that is not there or not readable is the user's to fix, not a failed gate."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such file", "pass a dataset file (.json or .jsonl) or a release directory"
        ) from None
    except IsADirectoryError:
        raise InputError(
            f"{path}: is a directory, not a dataset file", "pass the file or its release directory"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: {os_reason(exc)}", "make it readable for this user") from None


def _load_records(path: Path) -> tuple[Any, list[str]]:
    try:
        return json.loads(_read_bytes(path).decode("utf-8")), []
    except UnicodeDecodeError as exc:
        return None, [f"{path}: not UTF-8 ({exc.reason})"]
    except json.JSONDecodeError as exc:
        return None, [f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]


def _chat_lines(path: Path) -> tuple[list[str], list[str]]:
    """The file's lines, or a problem when it is not UTF-8 (a failed gate: the trainer could not read it either)."""
    try:
        return _read_bytes(path).decode("utf-8").splitlines(), []
    except UnicodeDecodeError as exc:
        return [], [f"{path}: not UTF-8 ({exc.reason})"]


@lru_cache(maxsize=1)
def chat_validator() -> Any:
    """The chat_template line schema (schemas/axolotl_chat_template.schema.json)."""
    schema = json.loads(schema_path(SCHEMA_FILES["chat_template"]).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def check_chat_lines(path: Path) -> tuple[int, list[str]]:
    """The chat_template file: every line has messages, and exactly one assistant message is not trained on."""
    lines, problems = _chat_lines(path)
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        count += 1
        try:
            entry = json.loads(line)
            for error in chat_validator().iter_errors(entry):
                where = "/".join(map(str, error.absolute_path)) or "line"
                problems.append(f"{path}:{number}: schema: {where}: {error.message}")
                break
            messages = entry["messages"]
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


def load_tokenizer(path: Path) -> Any:
    """A Hugging Face `tokenizer.json`; a missing or unreadable one stops the check before anything is counted."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise UsageError(
            "check --tokenizer needs the `tokenizers` package", "pip install 'corrigenda[tokenize]'"
        ) from None
    if not path.is_file():
        raise InputError(f"tokenizer {path}: no such file", "pass the path of a Hugging Face tokenizer.json")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust side raises a bare Exception for I/O and format errors alike
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"tokenizer {path}: cannot load it ({reason})", "pass a Hugging Face tokenizer.json (not a vocab file)"
        ) from None


def tokenize_records(records: list[dict[str, Any]], tokenizer: Any) -> TokenReport:
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


def tokenize_chat(path: Path, tokenizer: Any) -> TokenReport:
    """Trained (`train: true`) and masked message tokens of a chat JSONL file that passed `check_chat_lines`."""
    report = TokenReport(note="message contents only: the model's chat template adds its own markup on top")
    lines, _ = _chat_lines(path)
    for line in lines:
        if not line.strip():
            continue
        for message in json.loads(line)["messages"]:
            count = len(tokenizer.encode(message["content"], add_special_tokens=False).ids)
            if message.get("train") is True:
                report.trained_tokens += count
            else:
                report.masked_tokens += count
    return report


def _manifest_problems(release: Path) -> list[str]:
    """`verify_manifest`, with a manifest that is not UTF-8 named as a problem and an unreadable one as an error."""
    manifest = release / MANIFEST
    if manifest.exists():
        try:
            _read_bytes(manifest).decode("utf-8")
        except UnicodeDecodeError as exc:
            return [f"{manifest}: not UTF-8 ({exc.reason})"]
    try:
        return verify_manifest(release) + _schema_problems(manifest)
    except OSError as exc:  # a release file this user may not read: nothing can be verified
        where = exc.filename or release
        raise InputError(f"{where}: {os_reason(exc)}", "make the release directory's files readable") from None


def _schema_problems(manifest: Path) -> list[str]:
    """A release written against schema versions this corrigenda does not know is refused, naming the version."""
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8")).get("schemas")
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return []  # verify_manifest names a missing or unreadable manifest
    return unknown_schemas(recorded)


def release_built_from(release: Path, fingerprint: str) -> list[str]:
    """`built_from`, quiet about a manifest that is not UTF-8 (`_manifest_problems` already named it)."""
    try:
        return built_from(release, fingerprint)
    except UnicodeDecodeError:
        return []


def check_path(path: Path, tokenizer_path: Path | None = None) -> CheckResult:
    """A release directory (manifest + main file + chat file) or a single dataset file."""
    try:
        if path.is_dir():
            os.listdir(path)  # a release directory this user may not list
        else:
            path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory", "pass a dataset file or a release directory") from None
    except OSError as exc:
        raise InputError(f"{path}: {os_reason(exc)}", "make it readable for this user") from None
    if special := special_file(path):
        raise InputError(f"{path}: {special}", "pass a dataset file or a release directory")
    tokenizer = load_tokenizer(tokenizer_path) if tokenizer_path is not None else None
    result = CheckResult(path)
    main = path
    if path.is_dir():
        result.problems += _manifest_problems(path)  # a release directory always has one
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
        if tokenizer is not None and not chat_problems:
            result.tokens = tokenize_chat(main, tokenizer)
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
