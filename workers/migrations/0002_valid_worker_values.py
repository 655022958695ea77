"""Workers registered before identifiers, properties and versions were checked at the door
(orchestra.values) are brought within the rule, so that no stored row can break a page.

An identifier outside the rule is renamed (printed; its worker client must be restarted with
the new one, which the master now refuses otherwise); properties and a version outside it are
emptied: the worker sends them again at its next connection.
"""

import re

from django.db import migrations

from orchestra.values import (
    IDENTIFIER,
    InvalidValue,
    check_identifier,
    check_properties,
    check_text,
)

OUTSIDE_THE_RULE = re.compile(r"[^-A-Za-z0-9_]+")


def valid_identifier(identifier: str, taken: set[str]) -> str:
    """The identifier with every run of characters outside the rule made a '-', unique."""
    base = OUTSIDE_THE_RULE.sub("-", identifier).strip("-_")[:100] or "worker"
    candidate, number = base, 1
    while candidate in taken or not IDENTIFIER.fullmatch(candidate):
        number += 1
        suffix = f"-{number}"
        candidate = base[: 100 - len(suffix)] + suffix
    return candidate


def repair_workers(apps, schema_editor) -> None:
    Worker = apps.get_model("workers", "Worker")
    workers = list(Worker.objects.order_by("pk"))
    taken = {worker.identifier for worker in workers}
    for worker in workers:
        changed = {}
        try:
            check_identifier(worker.identifier, "identifier")
        except InvalidValue:
            changed["identifier"] = valid_identifier(worker.identifier, taken)
            taken.add(changed["identifier"])
            print(f"\n  worker {worker.identifier!r} renamed {changed['identifier']!r}: restart "
                  "its client with this --identifier", end="")
        try:
            check_properties(worker.properties, "properties")
        except InvalidValue:
            changed["properties"] = {}
        try:
            check_text(worker.version, "version", one_line=True,
                       max_length=Worker._meta.get_field("version").max_length)
        except InvalidValue:
            changed["version"] = ""
        if changed:
            Worker.objects.filter(pk=worker.pk).update(**changed)


class Migration(migrations.Migration):
    dependencies = [("workers", "0001_initial")]

    operations = [migrations.RunPython(repair_workers, migrations.RunPython.noop)]
