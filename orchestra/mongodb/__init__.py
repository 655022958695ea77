"""What Django's settings need for MongoDB (django-mongodb-backend), applied by
orchestra/settings.py when ORCHESTRA_DATABASE_URL is a mongodb:// URL.

MongoDB generates no integers: every model's primary key is an ObjectId
(`ObjectIdAutoField`, which the backend requires instead of AutoField and BigAutoField). Our
apps take it from DEFAULT_AUTO_FIELD, in their models and migrations alike
(`orchestra.database.primary_key`). Django's contrib apps with models declare AutoField in
their AppConfigs and migrations, so they are installed through the AppConfigs of
`orchestra.mongodb.apps` and migrated by the migrations beside this module (made by
`makemigrations admin auth contenttypes` on MongoDB, as the backend's documentation says).
"""

ENGINE = "django_mongodb_backend"
PRIMARY_KEY = "django_mongodb_backend.fields.ObjectIdAutoField"

CONTRIB_APP_CONFIGS = {
    "django.contrib.admin": "orchestra.mongodb.apps.MongoAdminConfig",
    "django.contrib.auth": "orchestra.mongodb.apps.MongoAuthConfig",
    "django.contrib.contenttypes": "orchestra.mongodb.apps.MongoContentTypesConfig",
}
MIGRATION_MODULES = {
    "admin": "orchestra.mongodb.migrations.admin",
    "auth": "orchestra.mongodb.migrations.auth",
    "contenttypes": "orchestra.mongodb.migrations.contenttypes",
}


def installed_apps(apps: list[str]) -> list[str]:
    """INSTALLED_APPS with the contrib apps that have models replaced by their MongoDB
    AppConfigs."""
    return [CONTRIB_APP_CONFIGS.get(app, app) for app in apps]
