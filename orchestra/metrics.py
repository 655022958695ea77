"""The master's metrics, served at /metrics in the Prometheus text format (prometheus_client).

Each app registers what it measures in REGISTRY when it is loaded (`runs.metrics`,
`workers.metrics`). Two kinds of values:

- from the database, read at each scrape by a collector: every master answers the same;
- counted by this process (log bytes it received, runs it saw start and end), labelled
  `master` (MASTER): Prometheus must scrape every master, and sums over them.

Only Orchestra's own values are served: the library's default process and platform values
would not say which master they come from.
"""

import os
import socket

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from prometheus_client import CollectorRegistry, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from orchestra import roles
from orchestra.authorization import user_has_authorization

# The text format would show each counter's and histogram's creation time as a gauge family
# of its own (`..._created`), which Prometheus does not use.
disable_created_metrics()
REGISTRY = CollectorRegistry()
# Which master a per-process value comes from: the host tells masters on different machines
# apart, the process id those on one machine, and a restarted master starts new series.
MASTER = f"{socket.gethostname()}:{os.getpid()}"


def serve_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus asks with a bearer token and cannot log in: a refusal is a 401 or 403 it
    reports as such, never the website's login page. As everywhere, who asks is checked
    before what is asked (the method)."""
    if not request.user.is_authenticated:
        return HttpResponse(
            "a token is needed: Authorization: Bearer <token>\n", status=401,
            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"},
        )
    if not user_has_authorization(request.user, roles.VIEW_METRICS):
        return HttpResponse(
            "this token's roles do not allow reading the metrics\n", status=403,
            content_type="text/plain",
        )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


serve_metrics.required_authorization = roles.VIEW_METRICS
