"""Server time and size of the heaviest website pages with 100,000 runs across 20 jobs.

    .venv/bin/python bench/pages.py [--runs 100000] [--repeat 40] [--database-url URL]

Without --database-url it uses SQLite (WAL) in a fresh temporary data directory. Requests go
through Django's test client in this process: the figures are the server's own time (URL
routing, authentication, queries, template rendering), without the network.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOBS = 20
PROJECTS = 4
WORKERS = 5
BATCH = 5000
STATUS_WEIGHTS = {"succeeded": 70, "failed": 15, "aborted": 3, "exception": 2, "running": 5,
                  "pending": 5}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default="", help="an installation's data directory (default: a new one)")
    parser.add_argument(
        "--finished-only", action="store_true",
        help="no pending or running runs: for a master started on the database afterwards (bench/targets.py)",
    )
    return parser.parse_args()


def setup_django(options) -> None:
    os.environ["ORCHESTRA_DATA_DIR"] = options.data_dir or tempfile.mkdtemp(prefix="orchestra-bench-pages-")
    if options.database_url:
        os.environ["ORCHESTRA_DATABASE_URL"] = options.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "orchestra.settings"
    os.environ.setdefault("ORCHESTRA_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(total: int, weights: dict[str, int] = STATUS_WEIGHTS):
    """Projects, jobs, workers and `total` runs (one step each, statuses drawn with `weights`)
    with bulk_create."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from orchestra.extensions import log_store
    from projects.models import Job, Project
    from runs.models import Run, RunStep
    from workers.models import Worker

    Run.objects.all().delete()
    Job.objects.all().delete()
    Project.objects.all().delete()
    Worker.objects.all().delete()
    projects = [Project.objects.create(identifier=f"project-{n}", display_name=f"Project {n}")
                for n in range(PROJECTS)]
    jobs = [
        Job.objects.create(project=projects[n % PROJECTS], identifier=f"job-{n}",
                           display_name=f"Job {n}", steps=[{"name": "build", "command": ["make"]}],
                           parameters=[{"name": "revision", "default": "main"}])
        for n in range(JOBS)
    ]
    workers = [Worker.objects.create(identifier=f"worker-{n}", is_connected=n < 3)
               for n in range(WORKERS)]
    random.seed(7)
    statuses = random.choices(list(weights), weights=list(weights.values()), k=total)
    now = timezone.now()
    for start in range(0, total, BATCH):
        runs = []
        for number in range(start, min(start + BATCH, total)):
            job = jobs[number % JOBS]
            status = statuses[number]
            created = now - timedelta(seconds=(total - number) * 60)
            done = status not in ("pending", "running")
            runs.append(Run(
                identifier=f"{number:032x}", project=job.project, job=job, status=status,
                worker=None if status == "pending" else workers[number % WORKERS],
                parameters={"revision": f"{number:040x}"},
                results={"answer": number % 100} if done else {},
                created=created, started=None if status == "pending" else created,
                completed=created + timedelta(seconds=30) if done else None,
            ))
        Run.objects.bulk_create(runs)
        # auto_now_add ignores the given value: put the spread-out creation times back.
        Run.objects.bulk_update(runs, ["created"], batch_size=1000)
        created = Run.objects.filter(identifier__in=[run.identifier for run in runs])
        RunStep.objects.bulk_create(
            RunStep(run_id=pk, index=0, name="build", status=status)
            for pk, status in created.values_list("pk", "status")
        )
        print(f"  {min(start + BATCH, total)} runs", end="\r", flush=True)
    print()
    # What autovacuum does soon after a bulk load: statistics for the planner, and (PostgreSQL)
    # a visibility map so that counts and deep pages read indexes alone.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    sample = Run.objects.filter(status="succeeded").order_by("-created").first()
    log_store().append(sample.identifier, 0, 0, b"".join(b"line %d\n" % n for n in range(5000)))
    User.objects.filter(username="bench").delete()  # left by an earlier, interrupted run
    user = User.objects.create_user("bench", password="bench-password")
    user.groups.add(Group.objects.get(name="administrator"))
    return user, sample


def measure(client, url: str, repeat: int) -> dict:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - begin) * 1000)
    quantiles = statistics.quantiles(times, n=20)
    return {"min": min(times), "p50": statistics.median(times), "p95": quantiles[18],
            "bytes": len(response.content)}


def main() -> None:
    options = arguments()
    setup_django(options)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from orchestra.models import Token
    from orchestra.tokens import create_token

    print(f"Filling {connection.vendor} with {options.runs} runs across {JOBS} jobs...")
    begin = time.perf_counter()
    weights = STATUS_WEIGHTS
    if options.finished_only:
        weights = {status: weight for status, weight in weights.items() if status not in ("pending", "running")}
    user, sample = fill(options.runs, weights)
    from runs.models import Run
    running = Run.objects.filter(status="running").order_by("-created").first()
    print(f"  filled in {time.perf_counter() - begin:.0f} s")
    client = Client(HTTP_HOST="localhost")
    client.cookies[settings.SESSION_COOKIE_NAME] = create_token(user, kind=Token.Kind.SESSION)[1]
    pages = {
        "runs list": "/runs/",
        "runs list, filtered and sorted": "/runs/?status=failed&project=project-1&ordering=-completed",
        "runs list, deep page (1000)": "/runs/?page=1000",
        "runs list, by job, sorted by worker": "/runs/?job=job-3&ordering=worker",
        "runs list, result value": "/runs/?result=answer%3D42",
        "run page (5,000-line log)": f"/runs/{sample.identifier}/",
        "run log page": f"/runs/{sample.identifier}/log/",
        "overview": "/",
        "project page (5 jobs' strips)": "/projects/project-1/",
        "job page (history of 50)": "/projects/project-1/jobs/job-1/",
        "workers page (load)": "/workers/",
    }
    if running:  # none with --finished-only
        pages["running run page (progress)"] = f"/runs/{running.identifier}/"
    print(f"\n| page ({connection.vendor}, {options.runs} runs) | min ms | p50 ms | p95 ms | HTML bytes |")
    print("|---|---:|---:|---:|---:|")
    for name, url in pages.items():
        figures = measure(client, url, options.repeat)
        print(f"| {name} | {figures['min']:.1f} | {figures['p50']:.1f} | {figures['p95']:.1f} "
              f"| {figures['bytes']} |")


if __name__ == "__main__":
    main()
