"""Token estimates for rate-limit reservations and for servers that report no `usage`."""

from __future__ import annotations

from corrigenda.ingest.chunker import get_encoding

ESTIMATE_ENCODING = "cl100k_base"
PER_MESSAGE_OVERHEAD = 4  # role and separators, as chat templates add them


def count_tokens(text: str) -> int:
    return len(get_encoding(ESTIMATE_ENCODING).encode(text, disallowed_special=())) if text else 0


def count_message_tokens(messages: list[dict[str, str]]) -> int:
    return sum(count_tokens(m["content"]) + PER_MESSAGE_OVERHEAD for m in messages)
