"""Calling the app's hooks: one sync driver and one async driver for every adapter.

The policy's round of hooks is a generator: it yields each :class:`HookCall` it needs and
returns its outcome. A driver answers each call and hands back the outcome, so the loop is
written once per mode and the policy never learns how a hook was called. Adapters with a
rule of their own for calling a hook (Django runs a plain hook in a thread under ASGI) pass
it as ``call``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, NamedTuple, TypeVar

Outcome = TypeVar("Outcome")


class HookCall(NamedTuple):
    """One hook to call with one argument. Under ASGI ``async_hook``, when there is one, is
    awaited instead (a store's ``revoke_session_async``, a keyring's ``refresh_for_async``)."""

    hook: Any
    argument: Any
    async_hook: Any = None


HookRound = Generator[HookCall, Any, Outcome]


def call_hook(call: HookCall) -> Any:
    return call.hook(call.argument)


async def await_hook(call: HookCall) -> Any:
    """Call a hook, awaiting it when it is ``async def`` (or its async twin, when it has one)."""
    answer = (call.async_hook or call.hook)(call.argument)
    if inspect.isawaitable(answer):
        answer = await answer
    return answer


def run_sync(round: HookRound[Outcome], call: Callable[[HookCall], Any] = call_hook) -> Outcome:
    """Answer each call of ``round`` in this thread; its outcome."""
    try:
        asked = next(round)
        while True:
            asked = round.send(call(asked))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(
    round: HookRound[Outcome], call: Callable[[HookCall], Awaitable[Any]] = await_hook
) -> Outcome:
    """Answer each call of ``round``, awaiting what is async; its outcome."""
    try:
        asked = next(round)
        while True:
            asked = round.send(await call(asked))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
