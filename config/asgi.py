"""ASGI entry point: HTTP through Django, websockets through Channels (`daphne config.asgi:application`)."""

import gc
import os

from django.core.asgi import get_asgi_application

from config.body_limit import BodyLimit, install_in_daphne

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Build the Django ASGI app first: it sets Django up before any consumer or model is imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 (Django must be set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 (Django must be set up first)
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402 (Django must be set up first)

from builder.graph.infer import warm_up  # noqa: E402 (Django must be set up first)
from training.routing import websocket_urlpatterns  # noqa: E402 (Django must be set up first)

warm_up()  # each layer type's first call costs 30-900 ms: pay it here, not on a user's first edit
# torch leaves ~400,000 long-lived objects; keep them out of the collector, whose full passes over them
# paused the server 200-500 ms (bench/live_feed.py: a 200-watcher p95 fell from 507 to 231 ms).
gc.freeze()

# Request bodies over their limit are refused before they are read, by Daphne's requests and again by the
# middleware (for any other ASGI server); accepted ones reach Django from disk (config/body_limit.py).
install_in_daphne()

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
