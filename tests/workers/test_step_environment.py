"""What a step's environment leaves out of the worker's: the worker's own secrets, and those of a
master started beside it (`make run`)."""

from workers.client.rundir import step_environment


def test_steps_see_neither_the_workers_secrets_nor_the_variables_of_the_masters(monkeypatch):
    for name in ("ORCHESTRA_WORKER_TOKEN", "ORCHESTRA_SECRET_KEY_FILE", "ORCHESTRA_DATABASE_URL",
                 "ORCHESTRA_SECRET_EXAMPLE_TOKEN", "ORCHESTRA_SECRET_DEPLOY_KEY_FILE"):
        monkeypatch.setenv(name, "hidden")
    monkeypatch.setenv("ORCHESTRA_LOG_LEVEL", "INFO")
    monkeypatch.setenv("BUILD_FLAVOUR", "release")
    environment = step_environment()
    assert "hidden" not in environment.values()
    assert environment["ORCHESTRA_LOG_LEVEL"] == "INFO"
    assert environment["BUILD_FLAVOUR"] == "release"
