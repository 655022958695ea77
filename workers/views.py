"""Website pages of the fleet: the overview (active runs, failures, workers online), the
workers, and enabling or disabling one."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from orchestra import masters, roles
from orchestra.audit import Actor
from orchestra.authorization import requires
from orchestra.website import filtered_list
from projects.configuration_in_force import configuration_in_force, with_configuration_in_force
from runs.models import ACTIVE_STATUSES, Status
from runs.queue import queue_state
from runs.views import newest_run_keys, run_rows
from workers.actions import set_worker_enabled
from workers.filters import WorkerFilter
from workers.load import fleet, load
from workers.models import Worker

RECENT_RUNS = 20
# Each worker's row of the list has a line of load below it: half a list page keeps a page of
# busy workers within the website's weight budget (tests/website/test_page_weight.py).
WORKERS_PAGE_SIZE = 25


@requires(roles.VIEW)
def overview(request):
    active = newest_run_keys(ACTIVE_STATUSES, 20)
    failures = newest_run_keys([Status.FAILED, Status.EXCEPTION], 10)
    rows = run_rows(active + failures)
    active_runs = [rows[key] for key in active if key in rows]
    workers_online = list(Worker.objects.filter(is_connected=True))
    context = {
        "active_runs": active_runs,
        "ticking": any(row.get("progress") for row in active_runs),
        "recent_failures": [rows[key] for key in failures if key in rows],
        "workers_online": workers_online,
        "fleet": fleet(workers_online),
        "queue": queue_state(timezone.now()),
    }
    return render(request, "workers/overview.html", context)


@requires(roles.VIEW)
def worker_list(request):
    listing = filtered_list(request, WorkerFilter, Worker.objects.all(), WORKERS_PAGE_SIZE)
    context = {"listing": listing, "load": load(listing.objects, timezone.now())}
    # The registry is for administrators: it names hosts and process ids.
    if request.user.has_perm(roles.VIEW_MASTERS):
        context["masters"] = with_configuration_in_force(masters.listed())
        context["configuration_in_force"] = configuration_in_force()
    return render(request, "workers/worker_list.html", context)


@requires(roles.VIEW)
def worker_detail(request, identifier: str):
    worker = get_object_or_404(Worker, identifier=identifier)
    runs = worker.runs.select_related("project", "job", "worker").order_by("-created", "-id")
    context = {
        "worker": worker,
        "current_runs": runs.filter(status__in=ACTIVE_STATUSES),
        "recent_runs": runs.exclude(status__in=ACTIVE_STATUSES)[:RECENT_RUNS],
    }
    return render(request, "workers/worker_detail.html", context)


@requires(roles.CHANGE_STATE)
@require_POST
def worker_set_enabled(request, identifier: str):
    worker = get_object_or_404(Worker, identifier=identifier)
    enabled = request.POST.get("enabled") == "true"
    set_worker_enabled(worker, enabled, Actor.from_request(request))
    messages.success(request, f"Worker {worker} {'enabled' if enabled else 'disabled'}.")
    return redirect(worker)
