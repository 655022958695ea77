import xml.etree.ElementTree as ElementTree

import pytest

from orchestra.audit import SYSTEM
from projects.configuration import load_configuration
from projects.models import Job
from runs.actions import do_trigger_run
from runs.pipeline_graph import render_pipeline_definition_svg, render_pipeline_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def diamond(db):
    load_configuration("examples.configuration")
    return do_trigger_run(Job.objects.get(identifier="pipeline-diamond"), {}, SYSTEM)


def test_one_box_per_element_and_one_arrow_per_dependency(diamond):
    svg = ElementTree.fromstring(str(render_pipeline_svg(diamond)))
    groups = svg.findall(f".//{SVG}g")
    assert [group.get("data-element") for group in groups] == ["a", "b", "c", "d"]
    assert [group.get("class") for group in groups] == [
        "element status-pending", "element status-waiting", "element status-waiting", "element status-waiting"
    ]
    assert len(svg.findall(f".//{SVG}line")) == 4


def test_started_elements_link_to_their_child_run(diamond):
    child = diamond.children.get(pipeline_element="a")
    svg = str(render_pipeline_svg(diamond))
    assert f'href="{child.get_absolute_url()}"' in svg
    assert svg.count("<a ") == 1


def test_text_is_escaped(diamond):
    job = diamond.job
    job.pipeline["elements"][0]["job"] = "<script>alert(1)</script>"
    job.save()
    svg = str(render_pipeline_svg(diamond))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    ElementTree.fromstring(svg)


def test_not_a_pipeline_renders_nothing(db):
    load_configuration("examples.configuration")
    run = do_trigger_run(Job.objects.get(identifier="hello"), {}, SYSTEM)
    assert render_pipeline_svg(run) == ""


def test_rules_beyond_success_are_dashed(diamond):
    job = diamond.job
    job.pipeline["elements"][3]["after"] = {"b": ["succeeded"], "c": ["failed", "succeeded"]}
    job.save()
    svg = ElementTree.fromstring(str(render_pipeline_svg(diamond)))
    dashes = {line.find(f"{SVG}title").text: line.get("stroke-dasharray") for line in svg.iter(f"{SVG}line")}
    assert dashes["d after b: succeeded"] == "0"
    assert dashes["d after c: failed, succeeded"] == "5 3"


def test_a_pipeline_job_is_drawn_from_its_definition_before_any_run(db):
    load_configuration("examples.configuration")
    job = Job.objects.get(identifier="pipeline-diamond")
    svg = ElementTree.fromstring(str(render_pipeline_definition_svg(job)))
    assert svg.find(f"{SVG}title").text == "Pipeline pipeline-diamond: its elements and their dependencies"
    groups = svg.findall(f".//{SVG}g")
    assert [group.get("data-element") for group in groups] == ["a", "b", "c", "d"]
    assert [group.get("class") for group in groups] == ["element"] * 4  # no status before a run
    assert [group.find(f"{SVG}title").text for group in groups] == [
        "a (echo)", "b (echo)", "c (echo)", "d (echo)"
    ]
    assert [line.find(f"{SVG}title").text for line in svg.findall(f".//{SVG}line")] == [
        "b after a: succeeded", "c after a: succeeded", "d after b: succeeded", "d after c: succeeded"
    ]
    assert svg.findall(f".//{SVG}a") == []
    assert str(render_pipeline_definition_svg(Job.objects.get(identifier="echo"))) == ""
