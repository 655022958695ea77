"""A run as a zip: `run.json`, `results.json` and every step's log under `logs/`."""

import io
import json
import re
import zipfile

from orchestra.extensions import log_store
from runs.models import Run


def _time(value) -> str | None:
    return value.isoformat() if value else None


def run_as_dict(run: Run) -> dict:
    return {
        "identifier": run.identifier,
        "project": run.project.identifier,
        "job": run.job.identifier,
        "parameters": run.parameters,
        "status": run.status,
        "status_message": run.status_message,
        "worker": run.worker.identifier if run.worker_id else None,
        "source": run.source,
        "schedule": run.schedule.identifier if run.schedule_id else None,
        "parent": run.parent.identifier if run.parent_id else None,
        "pipeline_element": run.pipeline_element,
        "created": _time(run.created),
        "started": _time(run.started),
        "completed": _time(run.completed),
        "results": run.results,
        "steps": [
            {
                "index": step.index,
                "name": step.name,
                "status": step.status,
                "started": _time(step.started),
                "completed": _time(step.completed),
            }
            for step in run.steps.order_by("index")
        ],
    }


def step_log_name(index: int, name: str) -> str:
    """`logs/0-build.log`: the index keeps names unique, the name keeps them readable."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "step"
    return f"logs/{index}-{safe[:80]}.log"


def archive_filename(run: Run) -> str:
    return f"{run.project.identifier}-{run.job.identifier}-{run.identifier}.zip"


def build_archive(run: Run) -> bytes:
    """The whole run in one zip, built in memory (logs are read one step at a time)."""
    data = run_as_dict(run)
    store = log_store()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run.json", json.dumps(data, indent=2, sort_keys=True))
        archive.writestr("results.json", json.dumps(run.results, indent=2, sort_keys=True))
        for step in data["steps"]:
            archive.writestr(
                step_log_name(step["index"], step["name"]),
                store.read(run.identifier, step["index"]),
            )
    return buffer.getvalue()
