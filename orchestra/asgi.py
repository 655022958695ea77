"""The master's ASGI application: website and service over HTTP, workers over WebSocket."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")

from django.core.asgi import get_asgi_application  # noqa: E402 (Django must be set up first)

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import path  # noqa: E402

from orchestra import http_server  # noqa: E402
from orchestra.backpressure import ResponseBackpressure  # noqa: E402
from workers.consumers import MasterConsumer  # noqa: E402

# Every way of serving the master (runmaster, `daphne orchestra.asgi:application`) loads this.
http_server.install()

websocket_urlpatterns = [path("ws/master/", MasterConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        # Static files are few and small (a stylesheet, a few KB of script): the master serves
        # them itself so that one process is a complete installation.
        # Streamed responses (logs, archives) wait for slow clients instead of piling up.
        "http": ResponseBackpressure(ASGIStaticFilesHandler(django_application)),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
