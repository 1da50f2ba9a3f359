"""Run events: stored in the database (the durable record), then sent to the run's channel-layer group.

The worker publishes from a background thread with one persistent event loop, so the training step only
appends to a queue; the same thread calls the run's heartbeat, which says whether a stop was requested.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, OperationalError, close_old_connections

from .models import Run

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
DB_RETRY_SECONDS = 30.0  # a briefly unavailable database is waited for, then the event is given up


def group_name(run_id: int) -> str:
    return f"run-{run_id}"


async def _send(run_id: int, message: dict) -> None:
    await get_channel_layer().group_send(group_name(run_id), {"type": "run.event", "event": message})


def publish(run: Run, kind: str, data: dict) -> dict:
    """Store and broadcast one event from outside the worker's publisher thread."""
    message = retry_db(lambda: run.add_event(kind, data), f"an event of run {run.pk}").message()
    try:
        async_to_sync(_send)(run.pk, message)
    except Exception:  # the stored event is replayed to clients; the live feed recovers on reconnect
        log.warning("could not broadcast event %s of run %s", message["seq"], run.pk, exc_info=True)
    return message


class Publisher:
    """A worker-side thread that stores and broadcasts a run's events in order, and beats its heartbeat.

    `beat` is called about once a second and returns whether the run was asked to stop.
    """

    def __init__(self, run: Run, beat: Callable[[], bool]):
        self.run, self.beat = run, beat
        self.stop_requested = threading.Event()
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._main, name=f"publisher-run-{run.pk}", daemon=True)

    def start(self) -> Publisher:
        self._thread.start()
        return self

    def put(self, kind: str, data: dict) -> None:
        self._queue.put((kind, data))

    def flush(self) -> None:
        """Wait until every event put so far is stored, so a checkpoint is never recorded ahead of its epoch's
        events: a run taken up again from that checkpoint would never send them."""
        stored = threading.Event()
        self._queue.put(stored)
        while not stored.wait(HEARTBEAT_SECONDS):
            if not self._thread.is_alive():
                return

    def close(self) -> None:
        """Deliver everything queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            last_beat = 0.0
            while True:
                try:
                    item = self._queue.get(timeout=HEARTBEAT_SECONDS)
                except queue.Empty:
                    item = ()
                if item is None:
                    break
                if isinstance(item, threading.Event):
                    item.set()
                elif item:
                    self._deliver(loop, *item)
                if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    self._with_retry(self._beat)
                    last_beat = time.monotonic()
        finally:
            loop.close()
            close_old_connections()

    def _beat(self) -> None:
        if self.beat():
            self.stop_requested.set()

    def _deliver(self, loop: asyncio.AbstractEventLoop, kind: str, data: dict) -> None:
        try:
            event = self._with_retry(lambda: self.run.add_event(kind, data))
        except (TypeError, ValueError):  # not JSON: a bug to log, not a reason to stop the heartbeat
            log.exception("could not store a %s event of run %s", kind, self.run.pk)
            return
        if event is None:
            return
        try:
            loop.run_until_complete(_send(self.run.pk, event.message()))
        except Exception:
            log.warning("could not broadcast event %s of run %s", event.seq, self.run.pk, exc_info=True)

    def _with_retry(self, action):
        try:
            return retry_db(action, f"an event of run {self.run.pk}")
        except OperationalError:
            return None  # the run goes on; what could not be stored is logged
        except (Run.DoesNotExist, IntegrityError):
            return None  # the run's row was deleted: the heartbeat tells the training to stop


def retry_db(action, what: str):
    """Run a database action, reconnecting and retrying while the database is briefly unavailable.

    Gives up (logging, returning None) after DB_RETRY_SECONDS, so a long outage fails the run instead of
    hanging it.
    """
    deadline = time.monotonic() + DB_RETRY_SECONDS
    delay = 0.1
    while True:
        try:
            return action()
        except OperationalError:
            close_old_connections()
            if time.monotonic() > deadline:
                log.exception("database unavailable; gave up on %s", what)
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
