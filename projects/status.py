"""The project status page's data: each branch's recent revisions and the runs made of them."""

from dataclasses import dataclass, field

from django.db.models import Q

from orchestra.extensions import revision_provider
from projects.models import Project
from projects.revisions import Revision, RevisionError
from runs.models import Run

# A run "ran with a revision" when one of these parameters holds its full or short hash.
REVISION_PARAMETERS = ("revision", "commit", "sha")
SHORT_HASH = 7
BRANCHES = 10
REVISIONS_PER_BRANCH = 10


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


def revision_status(project: Project) -> ProjectStatus:
    if not project.repository:
        return ProjectStatus(error="This project declares no repository.")
    try:
        provider = revision_provider(project.repository_provider or "git")(project.repository)
        branches = [
            BranchStatus(name, [RevisionRuns(revision) for revision in
                                provider.recent_revisions(name, REVISIONS_PER_BRANCH)])
            for name in provider.branches(BRANCHES)
        ]
    except RevisionError as error:
        return ProjectStatus(error=str(error))
    attach_runs(project, branches)
    return ProjectStatus(branches=branches)


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
