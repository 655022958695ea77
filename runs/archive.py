"""A run as a zip: `run.json`, `results.json` and every step's log under `logs/`.

The zip is written as it is sent, a log chunk at a time, so a run with logs of any size
costs the master a chunk of memory, not the archive.
"""

import json
import re
import time
import zipfile
from collections.abc import Iterator

from django.utils.http import content_disposition_header

from orchestra.extensions import log_store
from runs.logs import log_chunks
from runs.models import Run
from runs.streaming import BlockingStreamingResponse


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


class _Sink:
    """Where the zip is written: unseekable, so zipfile follows each member with a data
    descriptor instead of seeking back to its header, and emptied as the archive is sent."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        data = bytes(data)
        self._parts.append(data)
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            yield data


def _zip(run_identifier: str, data: dict) -> Iterator[bytes]:
    store = log_store()
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run.json", json.dumps(data, indent=2, sort_keys=True))
        archive.writestr("results.json", json.dumps(data["results"], indent=2, sort_keys=True))
        for step in data["steps"]:
            size = store.size(run_identifier, step["index"])
            member = zipfile.ZipInfo(step_log_name(step["index"], step["name"]), time.localtime()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            # The size known up front lets zipfile choose ZIP64 headers for a log over 2 GiB.
            member.file_size = size
            with archive.open(member, "w") as log:
                for chunk in log_chunks(run_identifier, step["index"], 0, size):
                    log.write(chunk)
                    yield from sink.drain()
    yield from sink.drain()


def archive_chunks(run: Run) -> Iterator[bytes]:
    """The run's zip, a piece at a time. Each log is archived as far as it is written when
    its turn comes."""
    # Read from the database now, in the request's thread: the pieces are made elsewhere.
    return _zip(run.identifier, run_as_dict(run))


def archive_response(run: Run) -> BlockingStreamingResponse:
    """The run's archive as a download: the one answer of the website's and the service's
    archive routes."""
    response = BlockingStreamingResponse(archive_chunks(run), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, archive_filename(run))
    return response
