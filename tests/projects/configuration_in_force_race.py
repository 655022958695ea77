"""Two masters, each with a configuration of its own, put it in force at the same moment, five
times over. Run by tests/projects/test_configuration_in_force.py against a fresh database.

Before each round the masters of the previous one stop: no live master holds the configuration
in force, so either may take over, but the second must then see the first's and stop.
"""

import json

from tests.scenario import at_once, set_up_examples

ROUNDS = 5


def main() -> None:
    set_up_examples()
    from examples.configuration import projects, resources
    from orchestra import masters
    from orchestra.applications import ALL
    from orchestra.models import Master
    from projects.configuration import LoadedConfiguration, validate_configuration
    from projects.configuration_in_force import ConfigurationConflict, put_in_force
    from projects.definitions import Job, Project, Step
    from projects.models import ConfigurationInForce, Job as JobRow

    def configuration(name: str) -> LoadedConfiguration:
        extra = Project(name, jobs=[Job("only-here", steps=[Step("say", ["echo", name])])])
        return LoadedConfiguration(*validate_configuration([*projects, extra], resources))

    def put(configuration: LoadedConfiguration, master: Master):
        def work() -> tuple[str, str]:
            try:
                put_in_force(configuration, master)
            except ConfigurationConflict:
                return configuration.fingerprint, "refused"
            return configuration.fingerprint, "in force"

        return work

    rounds = []
    for number in range(ROUNDS):
        for master in Master.objects.all():
            masters.record_stop(master)
        first, second = configuration(f"first-{number}"), configuration(f"second-{number}")
        outcomes = dict(at_once(
            put(first, masters.register(ALL, first.fingerprint)),
            put(second, masters.register(ALL, second.fingerprint)),
        ))
        in_force = ConfigurationInForce.objects.get()
        configured = sorted(
            JobRow.objects.filter(identifier="only-here", is_configured=True)
            .values_list("project__identifier", flat=True)
        )
        rounds.append({
            "outcomes": sorted(outcomes.values()),
            "in force is the winner's": outcomes.get(in_force.fingerprint) == "in force",
            "configured": configured,
            "winner": "first" if outcomes[first.fingerprint] == "in force" else "second",
            "number": number,
        })
    print(json.dumps(rounds))


if __name__ == "__main__":
    main()
