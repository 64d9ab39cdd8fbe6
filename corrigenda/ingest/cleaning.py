"""The text clean-up every reader shares, counting what it changed so the ingestion report can say so.

Why one step: glyphs from symbol fonts (Wingdings/Symbol bullets land in the Unicode private-use area), control
characters and unnormalised accents reach training text from every format, not just PDF.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# Symbol-font bullets as PDF and Word export them (Symbol U+F0B7, Wingdings U+F06C, U+F0A7, U+F0D8, ...).
BULLETS = frozenset("\uf06c\uf06e\uf06f\uf071\uf075\uf076\uf09f\uf0a7\uf0a8\uf0b7\uf0d8\uf0e0\uf0fc\uf0d7")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")
# C0 and C1 controls other than tab, newline and form feed (handled by the readers), plus stray byte-order marks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufeff]")


def _replace_private_use(match: re.Match[str], counts: Counter[str]) -> str:
    if match.group() in BULLETS:
        counts["private_use_bullets"] += 1
        return "•"
    counts["private_use_removed"] += 1
    return ""


def clean_text(text: str, counts: Counter[str]) -> str:
    """Private-use bullets as "•" (other private-use glyphs dropped), control characters and soft hyphens
    stripped, NFC; each kind of change is added to `counts`."""
    if _PRIVATE_USE.search(text):
        text = _PRIVATE_USE.sub(lambda m: _replace_private_use(m, counts), text)
    stripped = _CONTROL.sub("", text)
    if len(stripped) != len(text):
        counts["control_chars"] += len(text) - len(stripped)
        text = stripped
    if "\u00ad" in text:  # a soft hyphen is invisible where the line did not break there
        counts["soft_hyphens"] += text.count("\u00ad")
        text = text.replace("\u00ad", "")
    if not unicodedata.is_normalized("NFC", text):
        composed = unicodedata.normalize("NFC", text)
        counts["nfc_composed"] += max(1, len(text) - len(composed))
        text = composed
    return text
