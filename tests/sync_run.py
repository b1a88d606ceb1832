"""Run a coroutine to completion from a synchronous test, even in a pytest worker where Playwright's sync API
(session-scoped, started by an earlier browser test) already has an event loop running in this thread — where
`asyncio.run` refuses. Then the coroutine gets a fresh loop in a helper thread, with this thread's context."""

import asyncio
import contextvars
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_sync(awaitable: Awaitable[T]) -> T:
    async def wrap() -> T:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrap())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(context.run, asyncio.run, wrap()).result()
