"""Step command formatting (workers.executor.format_command): pure, all or nothing."""

import pytest

from workers.executor import FormattingError, format_command, formatting_context

REQUEST = {
    "identifier": "0123abcd",
    "project": "examples",
    "job": "echo",
    "worker": "builder-1",
    "parameters": {"text": "hi there", "count": 3},
}


def context(results=None, environment=None):
    return formatting_context(
        REQUEST, environment or {"HOME": "/home/builder"}, results or {}, "/runs/0123abcd",
        "/runs/0123abcd/results/0.json",
    )


def test_parameters_are_top_level_names_and_a_mapping():
    command = ["echo", "{text}", "{parameters[text]}", "{count:>4}"]
    assert format_command(command, context()) == ["echo", "hi there", "hi there", "   3"]


def test_environment_metadata_and_results_are_available():
    command = [
        "{environment[HOME]}", "{run_identifier}", "{project}", "{job}", "{worker}",
        "{run_directory}", "{workspace_directory}", "{results_file}", "{results[answer]}",
    ]
    assert format_command(command, context(results={"answer": 42})) == [
        "/home/builder", "0123abcd", "examples", "echo", "builder-1", "/runs/0123abcd",
        "/runs/0123abcd/workspace", "/runs/0123abcd/results/0.json", "42",
    ]


def test_doubled_braces_are_literal_braces():
    assert format_command(['{{"answer": {count}}}'], context()) == ['{"answer": 3}']


def test_metadata_wins_over_a_parameter_of_the_same_name():
    request = {**REQUEST, "parameters": {"worker": "spoofed"}}
    formatted = format_command(["{worker}", "{parameters[worker]}"], formatting_context(
        request, {}, {}, "/runs/x", "/runs/x/results/0.json"))
    assert formatted == ["builder-1", "spoofed"]


@pytest.mark.parametrize(
    "argument, key",
    [("{missing}", "missing"), ("{parameters[nope]}", "nope"),
     ("{environment[NOT_SET]}", "NOT_SET"), ("{results[later]}", "later")],
)
def test_a_missing_key_is_named_and_nothing_is_formatted(argument, key):
    with pytest.raises(FormattingError) as raised:
        format_command(["echo", "{text}", argument], context())
    assert f"no value for key {key!r}" in str(raised.value)
    assert "argument 2" in str(raised.value)


def test_positional_fields_and_bad_specifications_are_refused():
    with pytest.raises(FormattingError, match="positional"):
        format_command(["{0}"], context())
    with pytest.raises(FormattingError, match="argument 0"):
        format_command(["{text:d}"], context())
