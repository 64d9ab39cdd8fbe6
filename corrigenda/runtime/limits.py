"""Requests-per-minute and tokens-per-minute limits over a sliding 60-second window.

A call reserves its estimated tokens before it is sent and settles the real usage afterwards, so a burst of long
prompts cannot overshoot the TPM budget, and short answers give their unused reservation back.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

WINDOW_S = 60.0


@dataclass
class Reservation:
    at: float
    tokens: int


class RateLimiter:
    def __init__(self, rpm: int | None, tpm: int | None, clock=time.monotonic, sleep=asyncio.sleep):
        self.rpm, self.tpm, self._clock, self._sleep = rpm, tpm, clock, sleep
        self._entries: deque[Reservation] = deque()
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    def _expire(self, now: float) -> None:
        while self._entries and now - self._entries[0].at >= WINDOW_S:
            self._entries.popleft()

    def _wait_needed(self, tokens: int, now: float) -> float:
        self._expire(now)
        if self.rpm is not None and len(self._entries) >= self.rpm:
            return self._entries[0].at + WINDOW_S - now
        if self.tpm is not None and self._entries:
            used = sum(entry.tokens for entry in self._entries)
            if used + min(tokens, self.tpm) > self.tpm:
                return self._entries[0].at + WINDOW_S - now
        return 0.0

    async def acquire(self, tokens: int) -> Reservation | None:
        """Wait until one more request of `tokens` fits in the window, and reserve it."""
        if not self.active:
            return None
        async with self._lock:  # first come, first served
            while (wait := self._wait_needed(tokens, self._clock())) > 0:
                await self._sleep(wait)
            reservation = Reservation(self._clock(), tokens)
            self._entries.append(reservation)
            return reservation

    @staticmethod
    def settle(reservation: Reservation | None, actual_tokens: int) -> None:
        if reservation is not None:
            reservation.tokens = actual_tokens
