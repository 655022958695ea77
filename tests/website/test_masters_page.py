"""The workers page lists the master registry for administrators, and for them only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestra import masters
from orchestra.applications import ALL, MASTER
from orchestra.models import Master
from projects.configuration import read_configuration
from projects.configuration_in_force import put_in_force


def test_administrators_see_each_master_alive_or_gone_with_its_configuration(admin_client, settings):
    settings.MASTER_GONE_AFTER = 30
    gone = masters.register(frozenset({MASTER}), fingerprint="0123456789abcdef" * 4)
    Master.objects.filter(pk=gone.pk).update(heartbeat=timezone.now() - timedelta(minutes=5))
    alive = masters.register(ALL, fingerprint="fedcba9876543210" * 4)
    page = admin_client.get("/workers/").content.decode()
    table = page[page.index('<table id="masters">'):]
    rows = table.split("<tr>")[2:]
    assert f"<td>{alive}</td><td>alive</td><td>website,service,master</td>" in rows[0]
    assert 'title="' + "fedcba9876543210" * 4 + '">fedcba987654…' in rows[0]
    assert f"<td>{gone}</td><td>gone</td><td>master</td>" in rows[1]


@pytest.mark.parametrize("client_fixture", ["viewer_client", "operator_client"])
def test_other_roles_do_not_see_the_masters(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    master = masters.register(ALL)
    page = client.get("/workers/").content.decode()
    assert "<h1>Workers</h1>" in page
    assert "Masters" not in page and str(master) not in page


def test_administrators_see_the_configuration_in_force_and_which_masters_hold_it(admin_client):
    configuration = read_configuration("examples.configuration")
    holder = masters.register(ALL, configuration.fingerprint)
    put_in_force(configuration, holder)
    other = masters.register(ALL, "0" * 64)
    page = admin_client.get("/workers/").content.decode()
    assert (
        f'Configuration in force: <code title="{configuration.fingerprint}">{configuration.fingerprint[:12]}…</code>, '
        f"no version, loaded " in page
    )
    assert f" by {holder}.</p>" in page
    rows = page[page.index('<table id="masters">'):].split("<tr>")[2:]
    assert [(str(master) in row, "(in force)" in row) for master, row in zip((other, holder), rows)] == [
        (True, False), (True, True),
    ]
