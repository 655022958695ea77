import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projects.configuration import ConfigurationError, validate_configuration


class Command(BaseCommand):
    help = (
        "Validate a configuration module (default: ORCHESTRA_CONFIGURATION) without writing "
        "anything; exits non-zero listing every problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("module", nargs="?", help="dotted module name")

    def handle(self, *args, module=None, **options):
        module = module or settings.CONFIGURATION_MODULE
        try:
            try:
                loaded = importlib.import_module(module)
                definitions = loaded.projects
            except Exception as error:
                raise ConfigurationError([f"cannot load `projects` from {module!r}: {error!r}"])
            projects, resources = validate_configuration(definitions, getattr(loaded, "resources", []))
        except ConfigurationError as error:
            raise CommandError(str(error))
        jobs = sum(len(project["jobs"]) for project in projects)
        schedules = sum(len(project["schedules"]) for project in projects)
        self.stdout.write(
            f"{module}: {len(projects)} projects, {jobs} jobs, {schedules} schedules, "
            f"{len(resources)} resources: valid"
        )
        for project in projects:
            for job in project["jobs"]:
                if job["disabled_reason"]:
                    self.stdout.write(
                        f"job {project['identifier']}/{job['identifier']} will be disabled: "
                        f"{job['disabled_reason']}"
                    )
