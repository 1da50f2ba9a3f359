"""The live-metrics websocket: /ws/runs/<id>/?after=<seq>, for the run's owner only.

On connect it joins the run's group first and then replays the stored events after `after`, so nothing
published in between is missed; events are sent strictly in sequence order, and a gap in the live feed
(a dropped message, a Redis restart) is filled from the database.

When Redis (the channel layer) cannot be reached, the socket is accepted and at once closed with code 4503,
"service unavailable" (4000-4999 are the application's own codes; Daphne sends no 1013 "Try Again Later"
from a server). Daphne cannot answer a handshake with an HTTP 503 (it has no websocket.http.response), and a
refused handshake reaches the browser as a bare failure, the same as a 403 and a console error. The page
shows that it is reconnecting and tries again with a growing delay (static/js/dashboard/socket.js).
"""

import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from .events import group_name
from .models import Run, RunEvent

REPLAY_BATCH = 1000
UNAVAILABLE = 4503  # the close code for "the live feed is down for now": as HTTP's 503, in the private range

log = logging.getLogger(__name__)


@database_sync_to_async
def _owns(user, run_id: int) -> bool:
    return user.is_authenticated and Run.objects.filter(pk=run_id, owner=user).exists()


@database_sync_to_async
def _events(run_id: int, after: int, upto: int | None) -> list[dict]:
    events = RunEvent.objects.filter(run_id=run_id, seq__gt=after)
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return [e.message() for e in events[:REPLAY_BATCH]]


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        said = set()  # "websocket.accept", "websocket.close": what this socket has been told already

        async def send_noting(message):
            said.add(message["type"])
            await send(message)

        try:
            await super().__call__(scope, receive, send_noting)
        except (RedisError, OSError) as exc:  # the channel layer: on connect, or when Redis goes mid-stream
            log.warning("run %s: live feed unavailable (%s); the client is told to try again later",
                        scope.get("url_route", {}).get("kwargs", {}).get("run_id"), exc)
            if "websocket.close" not in said:
                if "websocket.accept" not in said:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": UNAVAILABLE})

    async def connect(self):
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        if not await _owns(self.scope["user"], self.run_id):
            await self.close(code=4403)  # before accept: the handshake is refused, nothing is revealed
            return
        after = parse_qs(self.scope["query_string"].decode()).get("after", ["0"])[0]
        self.last_seq = int(after) if after.isascii() and after.isdigit() else 0  # "²".isdigit() is true
        await self.channel_layer.group_add(group_name(self.run_id), self.channel_name)
        await self.accept()
        await self._replay(None)

    async def disconnect(self, code):
        if hasattr(self, "last_seq"):
            await self.channel_layer.group_discard(group_name(self.run_id), self.channel_name)

    async def _replay(self, upto: int | None) -> None:
        while True:
            events = await _events(self.run_id, self.last_seq, upto)
            for event in events:
                await self.send_json(event)
                self.last_seq = event["seq"]
            if len(events) < REPLAY_BATCH:
                return

    async def run_event(self, message):
        event = message["event"]
        if event["seq"] <= self.last_seq:
            return  # already sent in the replay
        if event["seq"] > self.last_seq + 1:
            await self._replay(event["seq"] - 1)
        await self.send_json(event)
        self.last_seq = event["seq"]

    async def receive_json(self, content, **kwargs):
        """The protocol is server to client; a client message is ignored."""
