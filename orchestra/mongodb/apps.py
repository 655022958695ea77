"""Django's contrib apps with ObjectId primary keys, for MongoDB (see the package)."""

from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig

from orchestra.mongodb import PRIMARY_KEY


class MongoAdminConfig(AdminConfig):
    default_auto_field = PRIMARY_KEY


class MongoAuthConfig(AuthConfig):
    default_auto_field = PRIMARY_KEY


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = PRIMARY_KEY
