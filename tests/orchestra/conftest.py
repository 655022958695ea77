from tests.api.conftest import catalogue, fast_password_hashing, service, users  # noqa: F401  (shared fixtures)
