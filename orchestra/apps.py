from django.apps import AppConfig


class OrchestraConfig(AppConfig):
    name = "orchestra"
    verbose_name = "Orchestra"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.urls import register_converter

        from orchestra.database import PrimaryKeyConverter, serialise_keys
        from orchestra.roles import synchronise_roles

        post_migrate.connect(synchronise_roles, sender=self)
        register_converter(PrimaryKeyConverter, "pk")
        serialise_keys()
