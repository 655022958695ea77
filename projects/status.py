"""The project status page's data: each branch's recent revisions and the runs made of them.

A provider is asked for the branches, then for every branch's revisions at once (one thread
each), so that a slow or unreachable provider costs one timeout, not one per branch. Its answer
(or its error) is kept CACHE_SECONDS per process and repository: pages and the service say how
old it is. The runs are read from the database at every request.
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from orchestra.extensions import revision_provider
from projects.models import Project
from projects.revisions import Revision, RevisionError
from runs.models import Run

# A run "ran with a revision" when one of these parameters holds its full or short hash.
REVISION_PARAMETERS = ("revision", "commit", "sha")
SHORT_HASH = 7
BRANCHES = 10
REVISIONS_PER_BRANCH = 10
CACHE_SECONDS = 60


@dataclass
class RevisionRuns:
    revision: Revision
    runs: list = field(default_factory=list)


@dataclass
class BranchStatus:
    name: str
    revisions: list[RevisionRuns]


@dataclass
class ProjectStatus:
    branches: list[BranchStatus] = field(default_factory=list)
    error: str = ""
    read_at: datetime | None = None  # when the provider was asked; None without a repository
    age_seconds: int | None = None


@dataclass(frozen=True)
class RepositoryAnswer:
    """What a provider answered (or the error it raised), as it is cached."""

    read_at: datetime
    branches: list[tuple[str, list[Revision]]]
    error: str = ""


def revision_status(project: Project, now: datetime | None = None) -> ProjectStatus:
    """The project's branches, revisions and their runs; `now` is for tests."""
    if not project.repository:
        return ProjectStatus(error="This project declares no repository.")
    now = now or timezone.now()
    kind = project.repository_provider or "git"
    key = "revisions:" + hashlib.sha256(f"{kind}\0{project.repository}".encode()).hexdigest()
    answer = cache.get(key)
    # Judged by the read time, not only by the cache's own expiry, so that `now` decides.
    if answer is None or now - answer.read_at >= timedelta(seconds=CACHE_SECONDS):
        answer = read_repository(kind, project.repository, now)
        cache.set(key, answer, CACHE_SECONDS)
    branches = [
        BranchStatus(name, [RevisionRuns(revision) for revision in revisions])
        for name, revisions in answer.branches
    ]
    attach_runs(project, branches)
    return ProjectStatus(
        branches=branches, error=answer.error, read_at=answer.read_at,
        age_seconds=int((now - answer.read_at).total_seconds()),
    )


def read_repository(kind: str, repository: str, now: datetime) -> RepositoryAnswer:
    """Ask the provider: the branches first, then each branch's revisions concurrently."""
    try:
        provider = revision_provider(kind)(repository)
        names = provider.branches(BRANCHES)
        with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
            revisions = list(pool.map(
                lambda name: provider.recent_revisions(name, REVISIONS_PER_BRANCH), names
            ))
    except RevisionError as error:
        return RepositoryAnswer(read_at=now, branches=[], error=str(error))
    return RepositoryAnswer(read_at=now, branches=list(zip(names, revisions)))


def attach_runs(project: Project, branches: list[BranchStatus]) -> None:
    """One query for all revisions shown, then each run goes to the revisions it names."""
    by_hash: dict[str, list[RevisionRuns]] = {}
    for branch in branches:
        for entry in branch.revisions:
            for value in (entry.revision.identifier, entry.revision.identifier[:SHORT_HASH]):
                by_hash.setdefault(value, []).append(entry)
    if not by_hash:
        return
    condition = Q()
    for name in REVISION_PARAMETERS:
        condition |= Q(**{f"parameters__{name}__in": list(by_hash)})
    runs = (
        Run.objects.filter(project=project)
        .filter(condition)
        .select_related("job")
        .order_by("-created", "-id")[:500]
    )
    for run in runs:
        named = {run.parameters.get(name) for name in REVISION_PARAMETERS}
        for value in named:
            for entry in by_hash.get(value, []) if isinstance(value, str) else []:
                if run not in entry.runs:
                    entry.runs.append(run)
