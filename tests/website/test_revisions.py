"""Revision-control providers (a real git repository, a fake GitHub on loopback) and the status page."""

import json
import socket
import subprocess
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from orchestra.extensions import revision_provider
from projects import revisions
from projects.models import Project
from projects.revisions import GitHubProvider, GitProvider, RevisionError
from projects.status import CACHE_SECONDS, revision_status
from runs.models import Status
from tests.orchestra.fresh_process import python_result
from tests.website.conftest import add_run


@pytest.fixture(autouse=True)
def forget_repositories():
    """Each test reads its repositories afresh: the status is cached per repository."""
    cache.clear()
    yield
    cache.clear()


def git(repository, *arguments) -> str:
    return subprocess.run(
        ["git", "-C", str(repository), *arguments], check=True, capture_output=True, text=True,
        env={"GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.org",
             "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.org",
             "HOME": str(repository), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()


@pytest.fixture
def repository(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    for number in range(3):
        (path / "file").write_text(str(number))
        git(path, "add", "file")
        git(path, "commit", "-q", "-m", f"change {number}")
    git(path, "checkout", "-q", "-b", "feature")
    (path / "file").write_text("feature")
    git(path, "commit", "-q", "-am", "feature <b>work</b>")
    return path


def test_git_provider_lists_branches_and_recent_revisions(repository):
    provider = revision_provider("git")(str(repository))
    assert isinstance(provider, GitProvider)
    assert sorted(provider.branches()) == ["feature", "main"]
    revisions = provider.recent_revisions("main", count=2)
    assert [revision.subject for revision in revisions] == ["change 2", "change 1"]
    assert revisions[0].identifier == git(repository, "rev-parse", "main")
    assert revisions[0].author == "Ann"


def test_git_provider_reports_a_missing_repository(tmp_path):
    with pytest.raises(RevisionError, match="git failed"):
        GitProvider(str(tmp_path / "nowhere")).branches()


def test_git_provider_refuses_option_like_branch_names(repository):
    with pytest.raises(RevisionError):
        GitProvider(str(repository)).recent_revisions("--output=/tmp/x")


class GitHubAnswers(BaseHTTPRequestHandler):
    """GitHub's API on a loopback port, answering what a test's handler says, in JSON."""

    def answer_json(self, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass


class FakeGitHub(GitHubAnswers):
    commits = {
        "main": [{"sha": "a" * 40, "commit": {"author": {"name": "Bo", "date": "2026-01-02T03:04:05Z"},
                                              "message": "Fix it\n\nlong text"}}],
    }
    seen = []

    def do_GET(self):
        FakeGitHub.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/repos/team/app/branches"):
            body = [{"name": "main", "commit": {"sha": "a" * 40}}]
        elif self.path.startswith("/repos/team/app/commits?sha=main"):
            body = self.commits["main"]
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.answer_json(body)


@pytest.fixture
def github():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeGitHub.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_github_provider_reads_branches_and_commits_over_http(github):
    provider = GitHubProvider("https://github.com/team/app.git", api_url=github, token="secret")
    assert provider.branches() == ["main"]
    [revision] = provider.recent_revisions("main", count=5)
    assert revision.identifier == "a" * 40 and revision.subject == "Fix it"
    assert revision.author == "Bo"
    assert ("/repos/team/app/commits?sha=main&per_page=5", "Bearer secret") in FakeGitHub.seen


BRANCHES_OF_TEAM_APP = """
import json
import django
django.setup()
from orchestra.extensions import revision_provider
print(json.dumps(revision_provider("github")("team/app").branches()))
"""


def test_the_github_address_and_token_come_from_the_environment(github, tmp_path):
    # A private repository on GitHub Enterprise: the token kept in a file, as secrets are.
    token_file = tmp_path / "github-token"
    token_file.write_text("from-the-file\n")
    variables = {"ORCHESTRA_GITHUB_API_URL": github, "ORCHESTRA_GITHUB_TOKEN_FILE": str(token_file)}
    assert python_result(tmp_path / "data", variables, BRANCHES_OF_TEAM_APP) == ["main"]
    assert FakeGitHub.seen == [("/repos/team/app/branches?per_page=10", "Bearer from-the-file")]


def test_github_provider_reports_http_errors(github):
    with pytest.raises(RevisionError, match="404"):
        GitHubProvider("team/missing", api_url=github).branches()


def test_status_page_shows_revisions_with_their_runs(admin_client, populated, repository):
    project = populated["project"]
    Project.objects.filter(pk=project.pk).update(repository=str(repository), repository_provider="git")
    head = git(repository, "rev-parse", "main")
    tested = add_run(populated["echo"], Status.FAILED, parameters={"revision": head})
    short = add_run(populated["echo"], Status.SUCCEEDED, parameters={"revision": head[:7]})
    page = admin_client.get("/projects/examples/status/").content.decode()
    assert "<h2>main</h2>" in page and "<h2>feature</h2>" in page
    assert f'href="/runs/{tested.identifier}/" class="status-failed">echo: failed' in page
    assert f'href="/runs/{short.identifier}/"' in page
    assert "feature &lt;b&gt;work&lt;/b&gt;" in page


def test_status_page_through_github(admin_client, populated, github):
    project = populated["project"]
    Project.objects.filter(pk=project.pk).update(repository="team/app", repository_provider="github")
    run = add_run(populated["echo"], Status.SUCCEEDED, parameters={"revision": "a" * 40})
    with override_settings(GITHUB_API_URL=github):
        page = admin_client.get("/projects/examples/status/").content.decode()
    assert "Fix it" in page and f'href="/runs/{run.identifier}/"' in page


def test_status_page_without_repository_says_so(admin_client, populated):
    page = admin_client.get("/projects/other/status/").content.decode()
    assert "declares no repository" in page


# Many branches, an unreachable provider --------------------------------------------------------


class BranchyGitHub(GitHubAnswers):
    """Ten branches whose commits are answered only once all ten have been asked for: a status
    that asks one branch after another waits in vain (and reads an error)."""

    names = [f"branch-{number}" for number in range(10)]
    barrier: threading.Barrier

    def do_GET(self):
        if self.path.startswith("/repos/team/app/branches"):
            body = [{"name": name, "commit": {"sha": "b" * 40}} for name in self.names]
        else:
            name = self.path.split("sha=")[1].split("&")[0]
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                self.send_response(503)
                self.end_headers()
                return
            body = [{"sha": "c" * 40, "commit": {"author": {"name": "Bo", "date": "2026-01-02T03:04:05Z"},
                                                 "message": f"work on {name}"}}]
        self.answer_json(body)


def test_the_branches_revisions_are_read_at_once_not_one_after_another(populated):
    BranchyGitHub.barrier = threading.Barrier(len(BranchyGitHub.names), timeout=5)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BranchyGitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    project = populated["project"]
    Project.objects.filter(pk=project.pk).update(repository="team/app", repository_provider="github")
    try:
        with override_settings(GITHUB_API_URL=f"http://127.0.0.1:{server.server_address[1]}"):
            status = revision_status(Project.objects.get(pk=project.pk))
    finally:
        server.shutdown()
        server.server_close()
    assert status.error == ""
    assert [branch.name for branch in status.branches] == BranchyGitHub.names
    assert [branch.revisions[0].revision.subject for branch in status.branches] == [
        f"work on {name}" for name in BranchyGitHub.names
    ]


def test_the_answer_is_kept_briefly_and_says_how_old_it_is(populated, repository):
    project = populated["project"]
    Project.objects.filter(pk=project.pk).update(repository=str(repository), repository_provider="git")
    project.refresh_from_db()
    read = timezone.now()

    def heads(status) -> dict:
        return {branch.name: branch.revisions[0].revision.subject for branch in status.branches}

    first = revision_status(project, now=read)
    assert (heads(first), first.read_at, first.age_seconds) == (
        {"feature": "feature <b>work</b>", "main": "change 2"}, read, 0
    )
    git(repository, "checkout", "-q", "main")
    git(repository, "commit", "-q", "--allow-empty", "-m", "change 3")

    kept = revision_status(project, now=read + timedelta(seconds=30))
    assert (heads(kept), kept.read_at, kept.age_seconds) == (heads(first), read, 30)

    later = read + timedelta(seconds=CACHE_SECONDS + 1)
    again = revision_status(project, now=later)
    assert (heads(again)["main"], again.read_at, again.age_seconds) == ("change 3", later, 0)


def test_the_status_page_says_when_the_repository_was_read(admin_client, populated, repository):
    project = populated["project"]
    Project.objects.filter(pk=project.pk).update(repository=str(repository), repository_provider="git")
    read = timezone.now().replace(microsecond=0) - timedelta(seconds=20)
    revision_status(Project.objects.get(pk=project.pk), now=read)
    page = admin_client.get("/projects/examples/status/").content.decode()
    assert f"Read from the repository at {read:%Y-%m-%d %H:%M:%S} UTC (" in page
    assert "<h2>main</h2>" in page


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers; yields its URL and how many
    connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_an_unreachable_provider_costs_one_timeout_per_period(admin_client, populated, silent_server,
                                                              monkeypatch):
    url, accepted = silent_server
    monkeypatch.setattr(revisions, "HTTP_TIMEOUT_SECONDS", 1)
    project = populated["project"]
    Project.objects.filter(pk=project.pk).update(repository="team/app", repository_provider="github")
    with override_settings(GITHUB_API_URL=url):
        first = admin_client.get("/projects/examples/status/").content.decode()
        second = admin_client.get("/projects/examples/status/").content.decode()
    assert "cannot read team/app from GitHub: timed out" in first
    assert "cannot read team/app from GitHub: timed out" in second
    assert len(accepted) == 1  # the second view was answered from what the first read
