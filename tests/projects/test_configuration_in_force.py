"""One configuration in force (projects/configuration_in_force.py): its fingerprint, and when a
master may replace it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples.configuration import projects as example_projects
from examples.configuration import resources as example_resources
from orchestra import masters
from orchestra.applications import ALL
from projects.configuration import ConfigurationError, LoadedConfiguration, read_configuration
from projects.configuration_in_force import ConfigurationConflict, configuration_in_force, put_in_force
from projects.definitions import Job, Project, Step
from projects.models import Job as JobRow
from projects.validation import validate_configuration
from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def loaded(projects: list, resources: list = (), version: int | None = None) -> LoadedConfiguration:
    return LoadedConfiguration(*validate_configuration(projects, list(resources)), version)


def examples(*extra_jobs: Job, version: int | None = None) -> LoadedConfiguration:
    extra = [Project("extra", jobs=list(extra_jobs))] if extra_jobs else []
    return loaded([*example_projects, *extra], example_resources, version)


def job(name: str, command: str = "true") -> Job:
    return Job(name, steps=[Step("run", [command])])


# Fingerprints -------------------------------------------------------------------------------

def test_the_fingerprint_ignores_the_order_of_projects_jobs_schedules_and_resources():
    first = Project("a", jobs=[job("one"), job("two")])
    second = Project("b", jobs=[job("three")])
    reordered = Project("a", jobs=[job("two"), job("one")])
    assert loaded([first, second]).fingerprint == loaded([second, reordered]).fingerprint
    assert len(loaded([first]).fingerprint) == 64


def test_the_fingerprint_changes_with_anything_the_database_would_hold():
    base = loaded([Project("a", jobs=[job("one")])])
    assert loaded([Project("a", jobs=[job("one", "false")])]).fingerprint != base.fingerprint
    assert loaded([Project("a", jobs=[job("one")], description="new")]).fingerprint != base.fingerprint
    assert loaded([Project("a", jobs=[job("one")])], version=2).fingerprint != base.fingerprint
    steps = [Step("first", ["true"]), Step("second", ["true"])]
    assert (loaded([Project("a", jobs=[Job("one", steps=steps)])]).fingerprint
            != loaded([Project("a", jobs=[Job("one", steps=steps[::-1])])]).fingerprint)


def test_the_fingerprint_is_the_same_in_every_process():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'orchestra.settings'; django.setup(); "
        "from projects.configuration import read_configuration; "
        "print(read_configuration('examples.configuration').fingerprint)"
    )
    fingerprints = {
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert fingerprints == {read_configuration("examples.configuration").fingerprint}


@pytest.mark.parametrize("version", ["2", 1.5, True, -1])
def test_a_version_that_is_not_a_whole_number_stops_the_master_naming_it(tmp_path, monkeypatch, version):
    (tmp_path / "versioned_configuration.py").write_text(
        f"from examples.configuration import projects, resources\nversion = {version!r}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError) as error:
        read_configuration("versioned_configuration")
    assert "module 'versioned_configuration', field 'version': must be a whole number" in str(error.value)


def test_a_declared_version_is_read():
    assert read_configuration("examples.configuration").version is None
    assert read_configuration("tests.e2e.upgraded_configuration").version == 2


# Taking over --------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.database
class TestPutInForce:
    def test_the_first_configuration_is_put_in_force_by_its_master(self):
        master = masters.register(ALL)
        configuration = examples()
        put_in_force(configuration, master)
        in_force = configuration_in_force()
        assert (in_force.fingerprint, in_force.version, in_force.loaded_by, in_force.loaded_by_name) == (
            configuration.fingerprint, None, master, str(master),
        )

    def test_a_different_configuration_stops_while_a_live_master_holds_the_one_in_force(self):
        first = masters.register(ALL, examples().fingerprint)
        put_in_force(examples(), first)
        changed = examples(job("added"))
        second = masters.register(ALL, changed.fingerprint)
        with pytest.raises(ConfigurationConflict) as conflict:
            put_in_force(changed, second)
        message = str(conflict.value)
        assert f"live masters run: {first}" in message
        assert "declare a higher `version`" in message and "--take-over-configuration" in message
        # Nothing was written.
        assert configuration_in_force().fingerprint == examples().fingerprint
        assert not JobRow.objects.filter(identifier="added").exists()

    def test_the_same_configuration_joins_the_one_in_force(self):
        first = masters.register(ALL, examples().fingerprint)
        put_in_force(examples(), first)
        second = masters.register(ALL, examples().fingerprint)
        put_in_force(examples(), second)
        assert configuration_in_force().loaded_by == second

    def test_taking_over_puts_a_different_configuration_in_force(self):
        first = masters.register(ALL, examples().fingerprint)
        put_in_force(examples(), first)
        changed = examples(job("added"))
        second = masters.register(ALL, changed.fingerprint)
        put_in_force(changed, second, take_over=True)
        assert configuration_in_force().fingerprint == changed.fingerprint
        assert JobRow.objects.get(identifier="added").is_configured

    @pytest.mark.parametrize("in_force_version, version, takes_over", [
        (None, 1, True), (1, 2, True), (2, 2, False), (3, 2, False), (2, None, False),
    ])
    def test_a_higher_version_takes_over(self, in_force_version, version, takes_over):
        current = examples(version=in_force_version)
        first = masters.register(ALL, current.fingerprint)
        put_in_force(current, first)
        changed = examples(job("added"), version=version)
        second = masters.register(ALL, changed.fingerprint)
        if takes_over:
            put_in_force(changed, second)
        else:
            with pytest.raises(ConfigurationConflict):
                put_in_force(changed, second)
        assert configuration_in_force().fingerprint == (changed if takes_over else current).fingerprint

    def test_with_no_other_live_master_a_changed_configuration_takes_over(self):
        first = masters.register(ALL, examples().fingerprint)
        put_in_force(examples(), first)
        masters.record_stop(first)
        changed = examples(job("added"))
        put_in_force(changed, masters.register(ALL, changed.fingerprint))
        assert configuration_in_force().fingerprint == changed.fingerprint

    def test_a_master_that_serves_no_configuration_holds_none(self):
        put_in_force(examples(), masters.register(ALL, examples().fingerprint))
        masters.record_stop(masters.Master.objects.get())
        masters.register(frozenset({"website"}))
        changed = examples(job("added"))
        put_in_force(changed, masters.register(ALL, changed.fingerprint))
        assert configuration_in_force().fingerprint == changed.fingerprint


@pytest.mark.database
def test_of_two_masters_putting_their_configurations_in_force_at_once_one_wins(race_database, tmp_path):
    rounds = run_scenario("tests.projects.configuration_in_force_race", race_database, tmp_path)
    for outcome in rounds:
        number, winner = outcome["number"], outcome["winner"]
        assert outcome["outcomes"] == ["in force", "refused"], outcome
        assert outcome["in force is the winner's"], outcome
        assert outcome["configured"] == [f"{winner}-{number}"], outcome
