"""Token estimates for rate-limit reservations and for servers that report no `usage`."""

from __future__ import annotations

from corrigenda.ingest.chunker import get_encoding

ESTIMATE_ENCODING = "cl100k_base"
PER_MESSAGE_OVERHEAD = 4  # role and separators, as chat templates add them


def count_tokens(text: str, encoding: str = ESTIMATE_ENCODING) -> int:
    """Special-token strings count as plain text, as they do in a document."""
    return len(get_encoding(encoding).encode_ordinary(text)) if text else 0


def count_message_tokens(messages: list[dict[str, str]], encoding: str = ESTIMATE_ENCODING) -> int:
    return sum(count_tokens(m["content"], encoding) + PER_MESSAGE_OVERHEAD for m in messages)
