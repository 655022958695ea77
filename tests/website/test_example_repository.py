"""The example project points at the checkout Orchestra runs from when it is a git repository, so
that a fresh install's status page shows branches and revisions at once; an unpacked archive's
example declares no repository, and its status page says so."""

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache

from projects.configuration import load_configuration
from projects.models import Project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def forget_repositories():
    cache.clear()
    yield
    cache.clear()


def recent_branches() -> list[str]:
    """What the git provider lists for the checkout: the ten most recently changed branches."""
    output = subprocess.run(
        ["git", "-C", str(ROOT), "for-each-ref", "--sort=-committerdate", "--count=10",
         "--format=%(refname:short)", "refs/heads/"],
        check=True, capture_output=True, text=True,
    ).stdout
    return output.split()


def test_the_example_project_shows_the_checkouts_branches(admin_client):
    load_configuration("examples.configuration")
    project = Project.objects.get(identifier="examples")
    assert (project.repository, project.repository_provider) == (str(ROOT), "git")
    branches = recent_branches()
    page = admin_client.get("/projects/examples/status/").content.decode()
    assert 'class="warning"' not in page, page
    # Other people may commit meanwhile, changing the order of the branches: what is shown is
    # what git lists.
    shown = sorted(name for name in branches if f"<h2>{name}</h2>" in page)
    assert shown == sorted(branches) and branches


def test_outside_a_git_checkout_the_example_declares_no_repository(tmp_path, admin_client):
    copy = tmp_path / "orchestra" / "examples" / "configuration.py"
    copy.parent.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "configuration.py", copy)
    spec = importlib.util.spec_from_file_location("unpacked_examples", copy)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (example,) = module.projects
    assert example.repository == ""

    Project.objects.create(identifier="examples", repository=example.repository)
    page = admin_client.get("/projects/examples/status/").content.decode()
    assert "This project declares no repository." in page
