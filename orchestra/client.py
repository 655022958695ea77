"""Orchestra's terminal client: start a job and see it through from a shell or a CI script.

    export ORCHESTRA_URL=https://orchestra.example.com ORCHESTRA_TOKEN=...
    python -m orchestra.client trigger examples/echo -p text=hi --follow

It talks to the service (/api/, docs/service.md) and nothing else, with the standard library
alone: it needs neither Django, nor settings, nor a database, so it runs from a checkout on any
machine with Python. Errors are one line on standard error.

Exit status: 0 when the command did what it was asked (with --follow: the run succeeded), 1
when a followed run failed, 2 otherwise (another final status, or an error).
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from typing import BinaryIO, NoReturn

FINAL = ("succeeded", "failed", "aborted", "exception", "cancelled", "skipped")
EXIT_SUCCEEDED, EXIT_FAILED, EXIT_OTHERWISE = 0, 1, 2
# A followed run is asked about this often while nothing new arrives.
POLL_SECONDS = 0.5
LOG_CHUNK = 1024 * 1024
TIMEOUT_SECONDS = 60
# A trigger that got no answer is sent again this many times, 1, 2, then 4 s later.
TRIGGER_RETRIES = 3


class ClientError(Exception):
    """What went wrong, in one line for the terminal."""


class NoAnswer(ClientError):
    """The service could not be reached, or the connection ended before its answer."""


class Service:
    """The service of one Orchestra installation, as one token's holder."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: object = None,
             headers: dict | None = None) -> tuple[bytes, dict]:
        """The answer's body and headers; ClientError for an error answer or no answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            raise ClientError(refusal(error.code, error.reason, error.read())) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise NoAnswer(f"cannot reach {self.url}: {reason}") from None

    def json(self, method: str, path: str, body: object = None, headers: dict | None = None):
        content, _ = self.call(method, path, body, headers)
        try:
            return json.loads(content)
        except ValueError:
            raise ClientError(f"{self.url}{path} did not answer JSON: is ORCHESTRA_URL the "
                              "address of Orchestra?") from None


def refusal(status: int, reason: str, content: bytes) -> str:
    """The service's error (`{"error": ...}`), or the status alone from anything else (a
    proxy's page). A refused token is the client's setting: the service answers it as if no
    token had been sent."""
    if status == 401:
        return "401 the token was refused: unknown, expired or revoked (check ORCHESTRA_TOKEN)"
    try:
        error = json.loads(content)["error"]
    except (ValueError, KeyError, TypeError):
        error = reason
    return f"{status} {error}"


def quote(identifier: str) -> str:
    return urllib.parse.quote(identifier, safe="")


def parameter(text: str) -> tuple[str, object]:
    """`name=text`, or `name:=JSON` for a number, a boolean or any JSON value."""
    name, separator, value = text.partition("=")
    if not separator or not name or name == ":":
        raise argparse.ArgumentTypeError(f"expected name=value or name:=json, got {text!r}")
    if not name.endswith(":"):
        return name, value
    try:
        return name[:-1], json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name[:-1]}: {value!r} is not JSON") from None


def project_and_job(text: str) -> tuple[str, str]:
    project, separator, job = text.partition("/")
    if not separator or not project or not job or "/" in job:
        raise argparse.ArgumentTypeError(f"expected PROJECT/JOB, got {text!r}")
    return project, job


# Commands -------------------------------------------------------------------------------------


def trigger(service: Service, target: tuple[str, str], parameters: list[tuple[str, object]],
            follow_run: bool, out: BinaryIO) -> int:
    project, job = target
    # One key for every attempt: a trigger that arrived but whose answer was lost is answered
    # again, and starts no second run (docs/service.md, Idempotency-Key).
    key = uuid.uuid4().hex
    for attempt in range(TRIGGER_RETRIES + 1):
        try:
            run = service.json(
                "POST", f"/api/projects/{quote(project)}/jobs/{quote(job)}/trigger",
                {"parameters": dict(parameters)}, headers={"Idempotency-Key": key},
            )
            break
        except NoAnswer:
            if attempt == TRIGGER_RETRIES:
                raise
            time.sleep(2**attempt)
    out.write(f"{run['identifier']}\n".encode())
    out.flush()
    if not follow_run:
        return EXIT_SUCCEEDED
    return follow(service, run["identifier"], out)


def follow(service: Service, identifier: str, out: BinaryIO) -> int:
    """Write each step's log as it grows, until the run ends; the exit status its end says.

    Each round reads the run, then what each step's log holds beyond what was written: a
    run's final status is stored only once its logs are complete (docs/protocol.md), so the
    round that sees it final reads the last bytes, and is the last."""
    offsets: dict[int, int] = {}
    while True:
        run = service.json("GET", f"/api/runs/{quote(identifier)}")
        wrote = write_new_log(service, run, offsets, out)
        if run["status"] in FINAL:
            break
        if not wrote:
            time.sleep(POLL_SECONDS)
    sys.stderr.write(f"orchestra: run {identifier} {run['status']}\n")
    return {"succeeded": EXIT_SUCCEEDED, "failed": EXIT_FAILED}.get(run["status"], EXIT_OTHERWISE)


def list_runs(service: Service, project: str | None, job: str | None, statuses: list[str],
              out: BinaryIO) -> int:
    query = urllib.parse.urlencode([
        (name, value)
        for name, value in [("project", project), ("job", job), *(("status", s) for s in statuses)]
        if value is not None
    ])
    page = service.json("GET", f"/api/runs?{query}" if query else "/api/runs")
    for run in page["results"]:
        out.write(f"{run['identifier']}  {run['project']}/{run['job']}  {run['status']:<9}  "
                  f"{run['created']}\n".encode())
    return EXIT_SUCCEEDED


def write_new_log(service: Service, run: dict, offsets: dict[int, int], out: BinaryIO) -> bool:
    """Write what each step's log of `run` (as read from the service) holds beyond `offsets`,
    the bytes already written of each step, which it moves on; whether it wrote anything."""
    wrote = False
    for step in run["steps"]:
        index = step["index"]
        while offsets.get(index, 0) < step["log_size"]:
            chunk, _ = service.call(
                "GET", f"/api/runs/{quote(run['identifier'])}/steps/{index}/log"
                f"?offset={offsets.get(index, 0)}&limit={LOG_CHUNK}",
            )
            if not chunk:
                break
            out.write(chunk)
            out.flush()
            offsets[index] = offsets.get(index, 0) + len(chunk)
            wrote = True
    return wrote


def write_log(service: Service, identifier: str, out: BinaryIO) -> int:
    """Every step's log as stored now, in order."""
    write_new_log(service, service.json("GET", f"/api/runs/{quote(identifier)}"), {}, out)
    return EXIT_SUCCEEDED


def abort(service: Service, identifier: str, out: BinaryIO) -> int:
    run = service.json("POST", f"/api/runs/{quote(identifier)}/abort")
    if run["status"] in FINAL:
        out.write(f"{identifier} {run['status']}\n".encode())
    else:
        out.write(f"{identifier} {run['status']}, asked to stop\n".encode())
    return EXIT_SUCCEEDED


# Command line ---------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """Usage errors in one line too, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_OTHERWISE, f"{self.prog}: {message} (see --help)\n")


def parser() -> Parser:
    main = Parser(
        prog="orchestra", description="Trigger and follow Orchestra runs through its service. "
        "Reads ORCHESTRA_URL (e.g. https://orchestra.example.com) and ORCHESTRA_TOKEN (an API "
        "token).",
    )
    commands = main.add_subparsers(dest="command", required=True, parser_class=Parser)
    command = commands.add_parser("trigger", help="start a run; print its identifier")
    command.add_argument("target", type=project_and_job, metavar="PROJECT/JOB")
    command.add_argument(
        "-p", "--parameter", type=parameter, action="append", default=[], dest="parameters",
        metavar="NAME=VALUE", help="a parameter as text (repeatable); NAME:=JSON for a number or "
        "boolean, e.g. -p lines:=10",
    )
    command.add_argument(
        "--follow", action="store_true",
        help="write the run's log as it grows; exit 0 if the run succeeded, 1 if it failed, 2 "
        "otherwise",
    )
    command = commands.add_parser("runs", help="list the latest runs, newest first")
    command.add_argument("--project")
    command.add_argument("--job")
    command.add_argument("--status", action="append", default=[], help="repeatable")
    command = commands.add_parser("log", help="write a run's log as stored now")
    command.add_argument("run", metavar="RUN")
    command = commands.add_parser("abort", help="abort a run")
    command.add_argument("run", metavar="RUN")
    return main


def main(arguments: Sequence[str] | None = None) -> int:
    options = parser().parse_args(arguments)
    url, token = os.environ.get("ORCHESTRA_URL", ""), os.environ.get("ORCHESTRA_TOKEN", "")
    out = sys.stdout.buffer
    try:
        if not url:
            raise ClientError("ORCHESTRA_URL is not set (e.g. https://orchestra.example.com)")
        if not token:
            raise ClientError("ORCHESTRA_TOKEN is not set (an API token: profile page, or "
                              "manage.py create_token)")
        service = Service(url, token)
        if options.command == "trigger":
            return trigger(service, options.target, options.parameters, options.follow, out)
        if options.command == "runs":
            return list_runs(service, options.project, options.job, options.status, out)
        if options.command == "log":
            return write_log(service, options.run, out)
        return abort(service, options.run, out)
    except ClientError as error:
        sys.stderr.write(f"orchestra: {' '.join(str(error).split())}\n")
        return EXIT_OTHERWISE


if __name__ == "__main__":
    sys.exit(main())
