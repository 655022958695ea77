"""A job that needs a secret no master start provides, for tests/projects/test_master_start.py."""

from projects.definitions import Job, Project, Secret, Step

DEPLOY_KEY = Secret("deploy-key", environment="ORCHESTRA_TEST_UNSET_DEPLOY_KEY")

projects = [
    Project(
        "shop",
        jobs=[Job("deploy", steps=[Step("deploy", ["sh", "-c", "deploy"])],
                  secrets={"DEPLOY_KEY": DEPLOY_KEY})],
    )
]
