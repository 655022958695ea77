"""One configuration in force: a master writes its configuration to the database only when it
does not silently replace the one live masters run.

The database records the configuration in force (`models.ConfigurationInForce`): its
fingerprint, the `version` it declares, when and by which master it was written. A master
whose configuration differs from it takes over when no other live master holds it (the
registry, `orchestra.masters`: a live master whose fingerprint is the one in force), when its
configuration declares a higher `version`, or when it is started with
`--take-over-configuration`; otherwise it stops with ConfigurationConflict. So an older
master restarted during a rolling upgrade cannot disable what a newer configuration added,
and editing the configuration and restarting the only master keeps working.

The check and the write happen in one transaction under a lock of the row, so of two masters
starting at once with different configurations, the second to take the lock sees the first's
(on MongoDB the second conflicts and is retried whole: orchestra.database).
"""

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Now

from orchestra import masters
from orchestra.database import atomic, locked, retried_on_conflict
from orchestra.models import Master
from projects.configuration import LoadedConfiguration, SyncReport, sync_projects
from projects.models import IN_FORCE, ConfigurationInForce
from projects.secrets import hold

class ConfigurationConflict(Exception):
    """The master's configuration may not replace the one in force; the text says why."""


def configuration_in_force() -> ConfigurationInForce | None:
    return ConfigurationInForce.objects.filter(name=IN_FORCE, loaded__isnull=False).select_related("loaded_by").first()


def with_configuration_in_force(registry: QuerySet) -> QuerySet:
    """Masters of the registry, each with `holds_configuration_in_force`."""
    return registry.annotate(holds_configuration_in_force=Exists(
        ConfigurationInForce.objects.filter(name=IN_FORCE, fingerprint=OuterRef("fingerprint")).exclude(fingerprint="")
    ))


def declares_higher_version(configuration: LoadedConfiguration, in_force: ConfigurationInForce) -> bool:
    if configuration.version is None:
        return False
    return in_force.version is None or configuration.version > in_force.version


@retried_on_conflict
def put_in_force(configuration: LoadedConfiguration, master: Master, take_over: bool = False) -> SyncReport:
    """Write `configuration` to the database as the one in force, loaded by `master`; raises
    ConfigurationConflict, writing nothing, when it would silently replace the configuration
    of a live master."""
    with atomic():
        in_force, _ = locked(ConfigurationInForce.objects).get_or_create(name=IN_FORCE)
        if in_force.fingerprint and in_force.fingerprint != configuration.fingerprint:
            holders = list(
                masters.live_masters(besides=master).filter(fingerprint=in_force.fingerprint)[:3]
            )
            if holders and not take_over and not declares_higher_version(configuration, in_force):
                raise ConfigurationConflict(conflict_message(configuration, in_force, holders))
        report = sync_projects(configuration.projects, configuration.resources)
        ConfigurationInForce.objects.filter(name=IN_FORCE).update(
            fingerprint=configuration.fingerprint, version=configuration.version, loaded=Now(),
            loaded_by=master, loaded_by_name=str(master),
        )
    hold(configuration.secrets)
    return report


def conflict_message(configuration: LoadedConfiguration, in_force: ConfigurationInForce,
                     holders: list[Master]) -> str:
    def described(fingerprint: str, version: int | None) -> str:
        return f"fingerprint {fingerprint[:12]}, " + (
            f"version {version}" if version is not None else "no version"
        )

    return (
        f"this master's configuration ({described(configuration.fingerprint, configuration.version)}) "
        f"differs from the configuration in force ({described(in_force.fingerprint, in_force.version)}, "
        f"loaded {in_force.loaded:%Y-%m-%d %H:%M:%S} UTC by {in_force.loaded_by_name}), which "
        f"live masters run: {', '.join(str(holder) for holder in holders)}. Writing it would "
        "replace their projects, jobs and schedules (an older master restarted during a rolling "
        "upgrade would disable what the newer configuration added). To replace it, declare a "
        "higher `version` in the configuration module, or start this master with "
        "--take-over-configuration; or start it with the configuration in force"
    )
