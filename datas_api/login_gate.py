"""At most DATAS_LOGIN_CONCURRENCY password checks at once in this worker.

A password check is ~0.1 s of scrypt in a thread. Unbounded, a login flood takes every thread
of the pool and every other request waits behind it. Here a login waits for a slot on the
event loop (holding no thread) for at most `wait_seconds`, then is answered 429.

Throttled tries are refused from memory after a short pause on the event loop: a client
hammering in a loop is slowed to its pace instead of crowding out other requests.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from datas_core.errors import TooManyRequests
from datas_core.services.login_throttle import RecentBlocks

T = TypeVar("T")
SLOT_WAIT_SECONDS = 1.0
REFUSAL_PAUSE_SECONDS = 0.25


class LoginGate:
    def __init__(
        self,
        slots: int,
        wait_seconds: float = SLOT_WAIT_SECONDS,
        refusal_pause: float = REFUSAL_PAUSE_SECONDS,
    ) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.refusal_pause = refusal_pause
        self.recent_blocks = RecentBlocks()  # throttled tries are refused from memory
        # asyncio semaphores belong to one event loop; a worker has one, test clients several.
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._by_loop.get(loop)
        if sem is None:
            sem = self._by_loop[loop] = asyncio.Semaphore(self.slots)
        return sem

    async def pause_refusal(self) -> None:
        """Hold a refused try a moment before answering (costs a timer, not a thread)."""
        await asyncio.sleep(self.refusal_pause)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in the thread pool once a slot is free; 429 if none frees in time."""
        sem = self._semaphore()
        try:
            await asyncio.wait_for(sem.acquire(), self.wait_seconds)
        except asyncio.TimeoutError:
            raise TooManyRequests(
                "the server is busy checking other logins; try again in a moment",
                retry_after_seconds=1,
            ) from None
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            sem.release()


def login_gate(request: Request) -> LoginGate:
    """This app's gate, made on first use (one per worker process)."""
    state = request.app.state
    gate: LoginGate | None = getattr(state, "login_gate", None)
    if gate is None:
        gate = state.login_gate = LoginGate(state.settings.login_concurrency)
    return gate
