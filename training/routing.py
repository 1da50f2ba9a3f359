"""Websocket routes, mounted by config.asgi under AllowedHostsOriginValidator and AuthMiddlewareStack."""

websocket_urlpatterns = []
