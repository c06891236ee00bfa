"""Ctrl-C always stops a command, and the command then ends as interrupted (exit 130) with its summary.

asyncio turns the first Ctrl-C into the cancellation of the command's task, and a cancellation can be lost
on its way down: Python 3.11's `asyncio.wait_for` returns the answer instead of raising when the answer
arrives in the same turn of the event loop as the cancellation, and the import then went on to the end and
exited 0. So for the length of a command Ctrl-C is also remembered in a flag, set in the signal handler
itself: the import checks it (`check`) before each list page, each policy and each write, so a lost
cancellation costs at most the request in flight; and whatever the command does after the flag is set
(returns, or fails because the Playwright driver got the same SIGINT), it ends as interrupted.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import TypeVar

from a21import.errors import Interrupted
from a21import.i18n import N_, _
from a21import.logs import log

T = TypeVar("T")
INTERRUPTED_MESSAGE = N_("Interrupted. Every policy shown as imported is stored whole; the others were not written. "
                         "Run the same command again to import what is missing.")


class _Flag:
    pressed = False


# Set in the command's task; the tasks it starts copy the context, so they all see the same flag.
_flag: ContextVar[_Flag | None] = ContextVar("a21import_ctrl_c", default=None)


def pressed() -> bool:
    flag = _flag.get()
    return flag is not None and flag.pressed


def check() -> None:
    """Raises CancelledError when Ctrl-C was pressed, or when this task was cancelled and the cancellation
    was lost on the way (a pending `cancelling()`): called before every step that reads or writes."""
    task = asyncio.current_task()
    if pressed() or (task is not None and task.cancelling()):
        raise asyncio.CancelledError


async def stoppable(job: Awaitable[T]) -> T:
    """Runs one command's coroutine (as the task of `asyncio.run`) with Ctrl-C handled as described above.
    A second Ctrl-C while the command is stopping raises KeyboardInterrupt at once, as Python's own does."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    flag = _Flag()
    _flag.set(flag)

    def on_sigint(signum, frame) -> None:
        if flag.pressed:
            raise KeyboardInterrupt
        flag.pressed = True
        loop.call_soon_threadsafe(task.cancel)  # also wakes the loop up from a long select()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = await job
    except (Exception, asyncio.CancelledError) as exc:
        if not flag.pressed or isinstance(exc, Interrupted):
            raise
        # E.g. the Playwright driver, in the same process group, died of the SIGINT while it was starting.
        log.info("After Ctrl-C: %s: %s", type(exc).__name__, exc)
        raise Interrupted(_(INTERRUPTED_MESSAGE), summary=getattr(exc, "summary", None)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if flag.pressed:  # pressed after the last check: the run is still one the user stopped
        raise Interrupted(_(INTERRUPTED_MESSAGE), summary=result)
    return result
