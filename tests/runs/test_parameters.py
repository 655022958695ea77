import pytest

from runs.parameters import ParameterError, resolve_parameters

DECLARATIONS = [
    {"name": "lines", "description": "", "required": False, "default": 100},
    {"name": "text", "description": "", "required": True},
    {"name": "optional", "description": "", "required": False},
]


def test_defaults_fill_what_is_not_given():
    assert resolve_parameters(DECLARATIONS, {"text": "hi"}) == {"lines": 100, "text": "hi"}


def test_given_values_override_defaults():
    given = {"text": "hi", "lines": "7", "optional": True}
    assert resolve_parameters(DECLARATIONS, given) == given


def test_unknown_parameter_is_refused_naming_it():
    with pytest.raises(ParameterError) as caught:
        resolve_parameters(DECLARATIONS, {"text": "hi", "colour": "red"})
    assert caught.value.field == "parameters.colour"
    assert "colour" in caught.value.message


def test_missing_required_parameter_is_refused_naming_it():
    with pytest.raises(ParameterError) as caught:
        resolve_parameters(DECLARATIONS, {"lines": 3})
    assert caught.value.field == "parameters.text"
    assert "missing required parameter 'text'" == caught.value.message


@pytest.mark.parametrize("value", [None, [1], {"a": 1}])
def test_values_must_be_scalars(value):
    with pytest.raises(ParameterError) as caught:
        resolve_parameters(DECLARATIONS, {"text": value})
    assert caught.value.field == "parameters.text"


@pytest.mark.parametrize("given", ["text=hi", ["text"], 3])
def test_parameters_must_be_an_object(given):
    with pytest.raises(ParameterError) as caught:
        resolve_parameters(DECLARATIONS, given)
    assert caught.value.field == "parameters"


def test_no_parameters_given():
    assert resolve_parameters([], None) == {}
    with pytest.raises(ParameterError):
        resolve_parameters(DECLARATIONS, None)
