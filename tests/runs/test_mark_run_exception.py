"""Marking a run as exception by hand (`runs.actions.do_mark_run_exception`)."""

import pytest

from orchestra.audit import SYSTEM
from projects.models import Job, Project
from runs.actions import do_mark_run_exception, do_trigger_run, finish_run
from runs.models import Run, Status

pytestmark = pytest.mark.database


@pytest.mark.django_db
def test_mark_run_exception_ends_an_active_run_only():
    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="J",
                             steps=[{"name": "s", "command": ["true"]}])
    active = do_trigger_run(job, {}, SYSTEM)
    Run.objects.filter(pk=active.pk).update(status=Status.RUNNING)
    assert do_mark_run_exception(active, SYSTEM)
    active.refresh_from_db()
    assert active.status == Status.EXCEPTION and "marked as exception" in active.status_message
    assert list(active.steps.values_list("status", flat=True)) == [Status.CANCELLED]

    succeeded = do_trigger_run(job, {}, SYSTEM)
    Run.objects.filter(pk=succeeded.pk).update(status=Status.RUNNING)
    assert finish_run(succeeded, Status.SUCCEEDED, "all good")
    assert not do_mark_run_exception(succeeded, SYSTEM)
    succeeded.refresh_from_db()
    assert (succeeded.status, succeeded.status_message) == (Status.SUCCEEDED, "all good")
