"""What a `runmaster` process does before it serves: read its configuration, record itself in
the registry, check that it may run beside the masters already there, and put its
configuration in force (projects/configuration_in_force.py)."""

from django.conf import settings

from orchestra import masters
from orchestra.applications import MASTER
from orchestra.models import Master
from projects.configuration import ConfigurationError, read_configuration
from projects.configuration_in_force import ConfigurationConflict, put_in_force


class StartRefused(Exception):
    """The master must not start; the message says why and what to do."""


def start_master(serves: frozenset[str], take_over_configuration: bool = False) -> Master:
    """This process's registry record, once everything allows it to serve; StartRefused
    otherwise, leaving no record and the configuration in the database as it was."""
    configuration = None
    if MASTER in serves:
        # The configuration is the master's to write; the website and the service read the
        # projects and jobs it wrote.
        try:
            configuration = read_configuration(settings.CONFIGURATION_MODULE)
        except ConfigurationError as error:
            raise StartRefused(f"ORCHESTRA_CONFIGURATION ({settings.CONFIGURATION_MODULE}): {error}")
    # Recorded first, checked next: of two masters starting at once without Redis, each sees
    # the other, and neither runs beside the other.
    master = masters.register(serves, configuration.fingerprint if configuration else "")
    try:
        refusal = masters.second_master_without_redis(master)
        if refusal:
            raise StartRefused(refusal)
        if configuration is not None:
            put_in_force(configuration, master, take_over=take_over_configuration)
    except ConfigurationConflict as conflict:
        masters.withdraw(master)
        raise StartRefused(f"ORCHESTRA_CONFIGURATION ({settings.CONFIGURATION_MODULE}): {conflict}")
    except BaseException:
        masters.withdraw(master)
        raise
    return master
