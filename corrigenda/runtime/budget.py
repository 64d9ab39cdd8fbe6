"""The spending cap (`max_usd`): what the dataset has cost plus what is in flight, checked before any work is sent.

Every request and every batch reserves its worst case (its prompt's tokens and `max_tokens` of output, at the price
it will be charged) before it goes out; the reservation becomes the real cost when the answer arrives. Work that
would take spent + reserved past the cap is not sent, so the build ends within one request's cost of the cap.
Answers from the cache count once each: they were paid for by an earlier run.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Budget:
    cap: float | None  # None: no cap, only counting
    spent: float = 0.0
    reserved: float = 0.0
    reached: bool = False  # some work was held back at the cap
    _counted: set[str] = field(default_factory=set)

    def reserve(self, usd: float) -> bool:
        """Hold `usd` for work about to be sent; False (and `reached`) when that would pass the cap."""
        if self.cap is not None and self.spent + self.reserved + usd > self.cap:
            self.reached = True
            return False
        self.reserved += usd
        return True

    def settle(self, reserved: float, actual: float, key: str | None = None) -> None:
        """The work that reserved `reserved` is done (or failed, with `actual` 0) and cost `actual`."""
        self.reserved = max(0.0, self.reserved - reserved)
        self.charge(actual, key)

    def charge(self, usd: float, key: str | None = None) -> None:
        """Money spent on one call; a call seen before (a cache hit read again) counts once."""
        if key is not None and self.cap is not None:  # only a cap needs the keys (memory grows with them)
            if key in self._counted:
                return
            self._counted.add(key)
        self.spent += usd
