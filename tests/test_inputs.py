"""Inputs a user gets wrong or cannot control: unreadable files and folders, symlink loops, `--limit`, and the
paths and tokenizers given to `check`. Each must end in a one-line message and the right exit code, never a
traceback or a hang."""

from __future__ import annotations

import ctypes
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrigenda.cli import main, positive_int
from corrigenda.compiler.spec import InputsSpec
from corrigenda.errors import InputError
from corrigenda.ingest.corpus import IngestionReport, discover
from corrigenda.ingest.walk import walk

REPO = Path(__file__).resolve().parent.parent
TEXT = (REPO / "samples" / "transcontinental-railroad.txt").read_text(encoding="utf-8")

OFFLINE_SPEC = """\
version: 1
name: inputs-test
models:
  small: {engine: heuristic, model: heuristic-filter}
  large: {engine: heuristic, model: heuristic-generate}
inputs:
  paths: [docs]
  chunk_size: 100
  on_unreadable: POLICY
steps:
  - {name: filter, kind: filter, model: small}
  - {name: generate, kind: generate, model: large}
output:
  dir: out
"""


def _offline(root: Path, policy: str = "report") -> Path:
    spec = root / "spec.yaml"
    spec.write_text(OFFLINE_SPEC.replace("POLICY", policy), encoding="utf-8")
    return spec


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1, lines
    return lines[0]


# --- symlink loops -------------------------------------------------------------------------------------------------


def _looping_tree(root: Path) -> None:
    """docs/a.txt, docs/sub/b.md, two loops (sub/a -> .., sub/b -> a) and a second name for a.txt."""
    (root / "docs" / "sub").mkdir(parents=True)
    (root / "docs" / "a.txt").write_text(TEXT, encoding="utf-8")
    (root / "docs" / "sub" / "b.md").write_text("# B\n\n" + TEXT, encoding="utf-8")
    (root / "docs" / "sub" / "a").symlink_to("..")
    (root / "docs" / "sub" / "b").symlink_to("a")
    (root / "docs" / "sub" / "again.txt").symlink_to("../a.txt")


def _discover_or_hang(inputs: InputsSpec, base: Path, report: IngestionReport) -> list[Path]:
    """discover() on a thread, so a walk that never ends fails this test instead of hanging the suite."""
    found: list[list[Path]] = []
    worker = threading.Thread(target=lambda: found.append(discover(inputs, base, report)), daemon=True)
    worker.start()
    worker.join(120)
    assert found, "discover() did not return: the walk does not terminate"
    return found[0]


@pytest.mark.parametrize("entry", ["docs/**", "docs", "docs/**/*.md"])
def test_walks_end_on_symlink_loops_and_read_each_file_once(tmp_path, entry):
    _looping_tree(tmp_path)
    report = IngestionReport()
    files = _discover_or_hang(InputsSpec(paths=(entry,)), tmp_path, report)
    real = sorted(os.path.realpath(f) for f in files)
    expected = ["docs/sub/b.md"] if entry.endswith(".md") else ["docs/a.txt", "docs/sub/b.md"]
    assert real == [str((tmp_path / name).resolve()) for name in expected]
    assert report.skipped == []


def test_links_that_name_nothing_are_reported_by_their_own_name(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "docs" / "self.txt").symlink_to("self.txt")
    (tmp_path / "docs" / "gone.md").symlink_to("moved-away.md")
    (tmp_path / "docs" / "ping").symlink_to("pong")
    (tmp_path / "docs" / "pong").symlink_to("ping")
    report = IngestionReport()
    files = _discover_or_hang(InputsSpec(paths=("docs", "docs/self.txt", "docs/*")), tmp_path, report)
    assert [f.name for f in files] == ["a.txt"]
    assert sorted(report.skipped, key=lambda item: item["file"]) == [
        {"file": "docs/gone.md", "reason": "broken symlink"},
        {"file": "docs/ping", "reason": "symlink loop"},
        {"file": "docs/pong", "reason": "symlink loop"},
        {"file": "docs/self.txt", "reason": "symlink loop"},
    ]  # each once, though three entries reach them
    spec = _offline(tmp_path, "strict")
    assert main(["build", str(spec)]) == 2
    assert "docs/gone.md: broken symlink" in capsys.readouterr().err


def test_a_broken_symlink_named_in_paths_says_where_it_points(tmp_path, capsys):
    """It was "no such file or directory: docs/gone.md" though `ls` shows the file there."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "docs" / "gone.md").symlink_to("moved-away.md")
    spec = _offline(tmp_path)
    spec.write_text(spec.read_text().replace("paths: [docs]", "paths: [docs/gone.md, docs/a.txt]"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "docs/gone.md is a broken symlink: it points to moved-away.md, which does not exist" in err


def test_a_named_pipe_in_an_input_folder_is_reported_not_read_or_passed_over(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, encoding="utf-8")
    os.mkfifo(tmp_path / "docs" / "feed.md")  # opening it to read would wait for a writer forever
    report = IngestionReport()
    files = _discover_or_hang(InputsSpec(paths=("docs",)), tmp_path, report)
    assert [f.name for f in files] == ["a.txt"]
    assert report.skipped == [{"file": "docs/feed.md", "reason": "not a regular file or folder"}]


def test_validate_and_build_finish_on_a_looping_corpus(tmp_path, capsys):
    _looping_tree(tmp_path)
    spec = _offline(tmp_path)
    spec.write_text(spec.read_text().replace("paths: [docs]", 'paths: ["docs/**"]'), encoding="utf-8")
    assert main(["validate", str(spec)]) == 0
    assert "2 input files" in capsys.readouterr().out
    assert main(["build", str(spec)]) == 0
    ingestion = json.loads((tmp_path / "out" / "ingestion_report.json").read_text())
    assert ingestion["files_read"] == ["docs/a.txt", "docs/sub/b.md"]


# --- the glob contract: the same files as glob.glob(recursive=True) where that terminates -------------------------

NAMES = st.sampled_from(["a", "b", ".h", "x.txt", "y.md", ".z.txt"])
PATTERN_PARTS = st.sampled_from(["**", "*", "*.txt", "?", "a", "b", "x.txt", ".h", "[ab]", "*.md"])


def _expected_by_glob(root: Path, pattern: str) -> set[str]:
    """What the old code took: every glob match that is a file, and every file under a matched folder; never a
    hidden name (one starting with a dot), even one the pattern spells out."""
    out: set[str] = set()
    for match in glob.glob(pattern, root_dir=root, recursive=True):
        if any(part.startswith(".") for part in Path(match).parts):
            continue
        path = root / match
        if match.endswith("/") and not path.is_dir():  # glob's `file/**` quirk: `file/` names no file
            continue
        if path.is_file():
            out.add(str(path.resolve()))
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.is_file() and not any(p.startswith(".") for p in file.relative_to(path).parts):
                    out.add(str(file.resolve()))
    return out


@settings(max_examples=60, deadline=None)
@given(
    tree=st.lists(st.lists(NAMES, min_size=1, max_size=3), min_size=1, max_size=8),
    pattern=st.lists(PATTERN_PARTS, min_size=1, max_size=3),
)
def test_glob_walk_matches_python_glob_on_trees_without_loops(tree, pattern):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for parts in tree:
            *folders, name = parts
            folder = root.joinpath(*folders)
            if any(p.is_file() for p in [folder, *folder.parents] if p != root and root in p.parents):
                continue  # a file already stands where a folder would go
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / name
            if not target.exists():
                target.write_text("x", encoding="utf-8")
        files, _ = walk(root, pattern, lambda *_: None)
        assert {str(f.resolve()) for f in files} == _expected_by_glob(root, "/".join(pattern))


# --- unreadable files and folders: real permissions, also when the suite runs as root --------------------------------

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_root_read_override() -> None:
    """In the child before exec: root keeps its uid (and so can run this interpreter) but loses the two capabilities
    that let it read any file, so `chmod 000` binds it like any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command in a child process whose permissions are enforced."""
    return subprocess.run(
        [sys.executable, "-m", "corrigenda", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_drop_root_read_override if os.geteuid() == 0 else None,
    )


@pytest.fixture
def unreadable(tmp_path):
    """docs/ with a readable text, an unreadable file and an unreadable folder; skips where permissions cannot bind."""
    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "a.txt").write_text(TEXT, encoding="utf-8")
    (docs / "secret.txt").write_text(TEXT.upper(), encoding="utf-8")
    (docs / "locked" / "inner.md").write_text(TEXT, encoding="utf-8")
    os.chmod(docs / "secret.txt", 0)
    os.chmod(docs / "locked", 0)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", f"open({str(docs / 'secret.txt')!r}).close()"],
            capture_output=True,
            text=True,
            preexec_fn=_drop_root_read_override if os.geteuid() == 0 else None,
        )
    except OSError as exc:  # the capability drop itself was refused (a container without CAP_SETPCAP)
        pytest.skip(f"cannot drop root's read-anything capabilities here ({exc}), so no file can be unreadable")
    if "PermissionError" not in probe.stderr:
        pytest.skip(f"a mode-000 file stays readable on this machine (a filesystem without permissions?): {probe}")
    yield tmp_path
    os.chmod(docs / "locked", 0o755)
    os.chmod(docs / "secret.txt", 0o644)


def test_unreadable_inputs_are_reported_by_name_under_report(unreadable):
    spec = _offline(unreadable, "report")
    validated = run_cli("validate", str(spec), cwd=unreadable)
    assert validated.returncode == 0, validated.stderr
    assert "docs/secret.txt: permission denied (skipped)" in validated.stderr
    assert "docs/locked/: permission denied (skipped)" in validated.stderr
    built = run_cli("build", str(spec), cwd=unreadable)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    assert "ingestion: skipped docs/locked/: permission denied" in built.stdout
    report = json.loads((unreadable / "out" / "ingestion_report.json").read_text())
    assert report["files_read"] == ["docs/a.txt"]
    assert {"file": "docs/secret.txt", "reason": "permission denied"} in report["skipped"]
    assert {"file": "docs/locked/", "reason": "permission denied"} in report["skipped"]


def test_unreadable_inputs_stop_validate_plan_and_build_under_strict(unreadable):
    spec = _offline(unreadable, "strict")
    for command in ("validate", "plan", "build"):
        result = run_cli(command, str(spec), cwd=unreadable)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "(inputs.on_unreadable is strict): docs/secret.txt: permission denied" in result.stderr
        assert "(inputs.on_unreadable is strict): docs/locked/: permission denied" in result.stderr
    assert not (unreadable / "out" / "axolotl_correction_conversations.json").exists()


def test_check_names_an_unreadable_dataset_file(unreadable):
    result = run_cli("check", "docs/secret.txt", cwd=unreadable)
    assert result.returncode == 2
    assert _one_line_error(result.stderr).startswith("docs/secret.txt: permission denied")


# --- --limit -------------------------------------------------------------------------------------------------------


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_limit_accepts_exactly_the_positive_whole_numbers(n):
    if n >= 1:
        assert positive_int(str(n)) == n
    else:
        with pytest.raises(Exception, match="at least 1"):
            positive_int(str(n))


@pytest.mark.parametrize("value", ["0", "-1", "ten", "2.5"])
def test_a_limit_below_one_is_a_one_line_usage_error(tmp_path, capsys, value):
    spec = _offline(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, encoding="utf-8")
    assert main(["build", str(spec), f"--limit={value}"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "argument --limit:" in err.strip().splitlines()[-1] and "at least 1" in err
    assert not (tmp_path / "out").exists()  # nothing was built


def test_the_build_api_refuses_a_zero_limit_too():
    from corrigenda.build import BuildOptions

    with pytest.raises(InputError, match="at least 1"):
        BuildOptions(limit=0)


# --- check: paths and tokenizers -----------------------------------------------------------------------------------


def _word_tokenizer(tmp_path: Path, words: set[str]) -> Path:
    """A word-level tokenizer made here (no download): one token per whitespace-separated word."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0} | {word: i + 1 for i, word in enumerate(sorted(words))}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return path


CHAT = [
    [
        ("user", "when was the spike driven", None),
        ("assistant", "it was driven in 1868", False),
        ("user", "are you sure", None),
        ("assistant", "no it was driven on May 10 1869 at Promontory Summit", True),
    ],
    [
        ("system", "answer from the text", None),
        ("user", "who drove it", None),
        ("assistant", "Ulysses Grant drove it", False),
        ("user", "really", None),
        ("assistant", "sorry Leland Stanford drove it", True),
    ],
]


def test_check_counts_chat_jsonl_tokens_with_a_tokenizer(tmp_path, capsys):
    path = tmp_path / "chat.jsonl"
    lines = []
    for conversation in CHAT:
        messages = [{"role": r, "content": c} | ({} if t is None else {"train": t}) for r, c, t in conversation]
        for message in messages:  # the writer marks every message; only assistants are trained
            message.setdefault("train", False)
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    words = {w for conversation in CHAT for _, content, _ in conversation for w in content.split()}
    tokenizer = _word_tokenizer(tmp_path, words)

    assert main(["check", str(path), "--tokenizer", str(tokenizer)]) == 0
    out = capsys.readouterr().out
    trained = sum(len(c.split()) for conversation in CHAT for _, c, t in conversation if t is True)
    masked = sum(len(c.split()) for conversation in CHAT for _, c, t in conversation if t is not True)
    assert f"tokens: {trained:,} trained, {masked:,} masked" in out
    assert "message contents only" in out


def test_check_refuses_a_missing_or_broken_tokenizer_in_one_line(tmp_path, capsys):
    data = tmp_path / "data.json"
    data.write_text("[]", encoding="utf-8")
    assert main(["check", str(data), "--tokenizer", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in _one_line_error(capsys.readouterr().err)
    for name, content in (("garbage.json", b"{not json"), ("vocab.json", b'{"a": 1}'), ("binary.json", b"\xff\xfe")):
        (tmp_path / name).write_bytes(content)
        assert main(["check", str(data), "--tokenizer", str(tmp_path / name)]) == 2
        line = _one_line_error(capsys.readouterr().err)
        assert name in line and "cannot load it" in line


@pytest.mark.parametrize("name", ["missing.json", "missing.jsonl", "no-such-release"])
def test_check_on_a_wrong_path_is_a_usage_error_not_a_failed_gate(tmp_path, capsys, name):
    assert main(["check", str(tmp_path / name)]) == 2
    assert "no such file or directory" in _one_line_error(capsys.readouterr().err)


def test_check_fails_a_chat_file_or_manifest_that_is_not_utf8(tmp_path, capsys):
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(b"\xff\xfe{}\n")
    assert main(["check", str(chat)]) == 1
    assert "not UTF-8" in capsys.readouterr().err

    spec = _offline(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(TEXT, encoding="utf-8")
    assert main(["build", str(spec)]) == 0
    (tmp_path / "out" / "manifest.json").write_bytes(b"\xff{}")
    capsys.readouterr()
    assert main(["check", str(tmp_path / "out"), "--spec", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "manifest.json: not UTF-8" in err and "Traceback" not in err


# --- spec and config paths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "plan", "build"])
def test_a_spec_path_that_is_a_folder_or_missing_is_named(tmp_path, capsys, command):
    assert main([command, str(tmp_path)]) == 2
    assert "is a directory, not a spec file" in _one_line_error(capsys.readouterr().err)
    assert main([command, str(tmp_path / "nope.yaml")]) == 2
    assert "no such spec file" in _one_line_error(capsys.readouterr().err)


def test_a_spec_that_is_not_utf8_is_named(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(b"version: 1\nname: caf\xe9\n")
    assert main(["validate", str(spec)]) == 2
    assert "not UTF-8" in _one_line_error(capsys.readouterr().err)


def test_import_names_a_bad_config_or_output_path(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_bytes(b"path:\n  input_dir: caf\xe9\n")
    assert main(["import-augmentoolkit", str(config), "-o", str(tmp_path / "spec.yaml")]) == 2
    assert "not UTF-8" in _one_line_error(capsys.readouterr().err)
    assert main(["import-augmentoolkit", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "spec.yaml")]) == 2
    assert "cannot read Augmentoolkit config" in _one_line_error(capsys.readouterr().err)
    config.write_text("system:\n  concurrency_limit: 8\n", encoding="utf-8")  # converts: every gap a placeholder
    (tmp_path / "taken").mkdir()
    assert main(["import-augmentoolkit", str(config), "-o", str(tmp_path / "taken")]) == 2
    assert "taken: is a directory" in _one_line_error(capsys.readouterr().err)
