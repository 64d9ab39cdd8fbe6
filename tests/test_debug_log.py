"""Debug files are written off the event loop, yet every one is complete when the run ends."""

from __future__ import annotations

import json

import pytest

from corrigenda.runtime.debug_log import DebugLog, debug_name


def test_every_record_is_on_disk_and_whole_after_close(tmp_path):
    log = DebugLog(tmp_path / "debug_outputs")
    records = {
        f"docs/a.txt#{index}": {"item": f"docs/a.txt#{index}", "attempts": [{"raw": "x" * index}]}
        for index in range(300)
    }
    for chunk_id, record in records.items():
        log.write("generate", chunk_id, record)
    log.close()
    written = sorted((tmp_path / "debug_outputs" / "generate").iterdir())
    assert len(written) == 300, "one file per item, no temp files left behind"
    for chunk_id, record in records.items():
        path = tmp_path / "debug_outputs" / "generate" / f"{debug_name(chunk_id)}.json"
        assert json.loads(path.read_text(encoding="utf-8")) == record


def test_a_failed_write_is_raised_not_lost(tmp_path):
    (tmp_path / "debug_outputs").write_text("a file where the directory should be")
    log = DebugLog(tmp_path / "debug_outputs")
    log.write("generate", "docs/a.txt#0", {"item": "docs/a.txt#0"})
    with pytest.raises(OSError):
        log.close()
