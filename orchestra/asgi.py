"""The master's ASGI application: website and service over HTTP, workers over WebSocket.

`application` serves all three applications; `runmaster --serve` builds one for a part of
them (`application_serving`, see orchestra/applications.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")

import django  # noqa: E402

django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does first

from orchestra.request_threads import PooledThreadsASGIHandler  # noqa: E402

django_application = PooledThreadsASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import path  # noqa: E402

from orchestra import http_server  # noqa: E402
from orchestra.applications import ALL, MASTER, WEBSITE, ServedApplications, refuse_workers  # noqa: E402
from orchestra.backpressure import ResponseBackpressure  # noqa: E402
from workers.consumers import MasterConsumer  # noqa: E402

# Every way of serving the master (runmaster, `daphne orchestra.asgi:application`) loads this.
http_server.install()


def application_serving(served: frozenset[str]) -> ProtocolTypeRouter:
    """The ASGI application of a process serving these applications (orchestra.applications)."""
    http = django_application
    if WEBSITE in served:
        # Static files are few and small (a stylesheet, a few KB of script): the website's
        # process serves them itself so that one process is a complete installation.
        http = ASGIStaticFilesHandler(http)
    if MASTER in served:
        websocket = URLRouter([path("ws/master/", MasterConsumer.as_asgi())])
    else:
        websocket = refuse_workers
    return ProtocolTypeRouter({
        # Streamed responses (logs, archives) wait for slow clients instead of piling up.
        "http": ResponseBackpressure(ServedApplications(http, served)),
        "websocket": websocket,
    })


application = application_serving(ALL)
