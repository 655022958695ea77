import pytest
from django.test import override_settings

from examples.matching import labels_match
from orchestra.extensions import worker_matcher
from workers.matching import properties_match


def test_job_without_properties_matches_every_worker():
    assert properties_match({}, {})
    assert properties_match({}, {"os": "linux"})


def test_every_job_property_must_be_equal_on_the_worker():
    assert properties_match({"pool": "special"}, {"pool": "special", "os": "linux"})
    assert not properties_match({"pool": "special"}, {"pool": "general"})
    assert not properties_match({"pool": "special"}, {"os": "linux"})
    assert not properties_match({"pool": "special", "os": "linux"}, {"pool": "special"})


def test_properties_compare_as_text():
    assert properties_match({"cores": "4"}, {"cores": 4})


def test_labels_example_needs_the_job_label_among_the_worker_labels():
    assert labels_match({"label": "gpu"}, {"labels": "linux, gpu"})
    assert not labels_match({"label": "gpu"}, {"labels": "linux"})
    assert not labels_match({"label": "gpu"}, {})
    assert labels_match({}, {"labels": "linux"})


def test_labels_example_keeps_the_default_rule_for_other_properties():
    assert labels_match({"label": "gpu", "os": "linux"}, {"labels": "gpu", "os": "linux"})
    assert not labels_match({"label": "gpu", "os": "linux"}, {"labels": "gpu", "os": "mac"})


@pytest.fixture
def fresh_matcher():
    worker_matcher.cache_clear()
    yield
    worker_matcher.cache_clear()


def test_matcher_is_chosen_in_settings(fresh_matcher):
    with override_settings(WORKER_MATCHER="examples.matching.labels_match"):
        assert worker_matcher() is labels_match
