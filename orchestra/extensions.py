"""Extension points: dotted paths from settings, loaded once and validated at start."""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

SETTING_VARIABLES = {
    "WORKER_MATCHER": "ORCHESTRA_WORKER_MATCHER",
    "LOG_STORE": "ORCHESTRA_LOG_STORE",
    "AUTHORIZATION_ROLES": "ORCHESTRA_ROLES",
}


def load(setting: str, dotted_path: str):
    try:
        return import_string(dotted_path)
    except ImportError as error:
        variable = SETTING_VARIABLES.get(setting, f"ORCHESTRA_{setting}")
        raise ImproperlyConfigured(f"{variable}: cannot load {dotted_path!r}: {error}")


@cache
def worker_matcher():
    return load("WORKER_MATCHER", settings.WORKER_MATCHER)


@cache
def log_store():
    return load("LOG_STORE", settings.LOG_STORE)(settings.LOG_DIR)


@cache
def run_transformers() -> tuple:
    return tuple(load("RUN_TRANSFORMERS", path) for path in settings.RUN_TRANSFORMERS)


@cache
def revision_provider(kind: str):
    if kind not in settings.REVISION_PROVIDERS:
        raise ImproperlyConfigured(f"unknown revision-control provider {kind!r}")
    return load(f"{kind.upper()}_PROVIDER", settings.REVISION_PROVIDERS[kind])


def validate_all() -> None:
    """Load every extension point now, so a wrong path stops start-up naming the setting."""
    worker_matcher()
    log_store()
    run_transformers()
    for kind in settings.REVISION_PROVIDERS:
        revision_provider(kind)
    load("AUTHORIZATION_ROLES", settings.AUTHORIZATION_ROLES)
