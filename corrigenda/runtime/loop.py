"""Run a coroutine to completion from synchronous code, also where an event loop is already running (a Jupyter
notebook), where `asyncio.run` refuses: there it runs on a fresh loop in a thread of its own and this call waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`make` builds the coroutine in the thread that runs it, so nothing is bound to the caller's loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="corrigenda-run") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
