"""Revision-control providers for project status pages (ORCHESTRA_GIT_PROVIDER and friends).

A provider is built with the project's `repository` and answers `branches()` and
`recent_revisions(branch, count)`; `orchestra.extensions.revision_provider(kind)` picks the
class named in settings for the project's `repository_provider` ("git" or "github").
"""

import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

GIT_TIMEOUT_SECONDS = 10
HTTP_TIMEOUT_SECONDS = 10
FIELD_SEPARATOR = "\x1f"


class RevisionError(Exception):
    """The repository cannot be read; the message is meant for the status page."""


@dataclass(frozen=True)
class Revision:
    identifier: str  # the full commit hash
    author: str
    date: str  # ISO 8601
    subject: str

    @property
    def short(self) -> str:
        return self.identifier[:10]


class RevisionProvider:
    """The interface: subclasses read one repository. `recent_revisions` is called for several
    branches at once, from threads of its own (projects/status.py)."""

    def __init__(self, repository: str):
        self.repository = repository

    def branches(self, limit: int = 10) -> list[str]:
        raise NotImplementedError

    def recent_revisions(self, branch: str, count: int = 10) -> list[Revision]:
        raise NotImplementedError


class GitProvider(RevisionProvider):
    """A repository on the master's disk, read with the `git` command."""

    def _git(self, *arguments: str) -> str:
        # An argument list (no shell), no prompts and a timeout: a broken or hostile
        # repository cannot hang the page or run anything of its own.
        environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
        try:
            completed = subprocess.run(
                ["git", "-C", self.repository, *arguments],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_SECONDS,
                env=environment,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RevisionError(f"git failed on {self.repository}: {error}")
        if completed.returncode != 0:
            message = completed.stderr.strip().splitlines()[-1:] or ["unknown error"]
            raise RevisionError(f"git failed on {self.repository}: {message[0]}")
        return completed.stdout

    def branches(self, limit: int = 10) -> list[str]:
        output = self._git(
            "for-each-ref", "--sort=-committerdate", f"--count={int(limit)}",
            "--format=%(refname:short)", "refs/heads/",
        )
        return [line for line in output.splitlines() if line]

    def recent_revisions(self, branch: str, count: int = 10) -> list[Revision]:
        output = self._git(
            "log", f"--max-count={int(count)}",
            f"--format=%H{FIELD_SEPARATOR}%an{FIELD_SEPARATOR}%aI{FIELD_SEPARATOR}%s",
            f"refs/heads/{branch}", "--",
        )
        revisions = []
        for line in output.splitlines():
            identifier, author, date, subject = (line.split(FIELD_SEPARATOR) + ["", "", ""])[:4]
            revisions.append(Revision(identifier, author, date, subject))
        return revisions


class GitHubProvider(RevisionProvider):
    """A GitHub repository (`owner/name` or its https URL) read through GitHub's HTTP API.

    The API's address and the token for private repositories are the settings GITHUB_API_URL
    and GITHUB_TOKEN (ORCHESTRA_GITHUB_API_URL, ORCHESTRA_GITHUB_TOKEN); the arguments
    override them.
    """

    def __init__(self, repository: str, api_url: str | None = None, token: str | None = None):
        super().__init__(repository)
        path = urllib.parse.urlparse(repository).path if "://" in repository else repository
        self.name = path.strip("/").removesuffix(".git")
        if self.name.count("/") != 1:
            raise RevisionError(f"not a GitHub repository name: {repository!r}")
        self.api_url = api_url or settings.GITHUB_API_URL
        self.token = token if token is not None else settings.GITHUB_TOKEN

    def _get(self, path: str, **query) -> object:
        url = f"{self.api_url.rstrip('/')}/repos/{urllib.parse.quote(self.name)}/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={
            "Accept": "application/vnd.github+json",
            "User-Agent": "orchestra",
            **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        })
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise RevisionError(f"GitHub answered {error.code} for {self.name}")
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise RevisionError(f"cannot read {self.name} from GitHub: {error}")

    def branches(self, limit: int = 10) -> list[str]:
        return [branch["name"] for branch in self._get("branches", per_page=int(limit))]

    def recent_revisions(self, branch: str, count: int = 10) -> list[Revision]:
        commits = self._get("commits", sha=branch, per_page=int(count))
        return [
            Revision(
                identifier=commit["sha"],
                author=commit["commit"]["author"]["name"],
                date=commit["commit"]["author"]["date"],
                subject=commit["commit"]["message"].split("\n", 1)[0],
            )
            for commit in commits
        ]
