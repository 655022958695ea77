from django.contrib.auth.models import User
from django.core.validators import RegexValidator
from rest_framework import serializers

from orchestra.api_views import TextField
from orchestra.models import AuditEvent, Token
from orchestra.roles import configured_roles


class TokenSerializer(serializers.ModelSerializer):
    """A token's metadata: never its value, which exists only once, when it is created."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Token
        fields = ["id", "user", "kind", "description", "created", "expires", "last_used", "revoked"]


class NewTokenSerializer(serializers.Serializer):
    description = TextField(max_length=200, allow_blank=True, default="")


class CreatedTokenSerializer(TokenSerializer):
    value = serializers.CharField(read_only=True, help_text="Shown this once only.")

    class Meta(TokenSerializer.Meta):
        fields = TokenSerializer.Meta.fields + ["value"]


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active", "roles",
                  "date_joined", "last_login"]

    def get_roles(self, user: User) -> list[str]:
        # Iterating a prefetched relation: no query per user.
        return sorted(group.name for group in user.groups.all())


def role_choices() -> list[str]:
    return sorted(configured_roles())


class RolesSerializer(serializers.Serializer):
    roles = serializers.ListField(child=TextField(), allow_empty=True)

    def validate_roles(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(role_choices()))
        if unknown:
            raise serializers.ValidationError(f"unknown roles: {', '.join(unknown)}")
        return sorted(set(value))


class NewUserSerializer(RolesSerializer):
    username = TextField(max_length=150, validators=[RegexValidator(r"^[\w.@+-]{1,150}$")])
    password = TextField(
        required=False, allow_null=True, default=None, write_only=True, min_length=8,
        max_length=4096, help_text="Without one, the user can only use API tokens.",
    )
    roles = serializers.ListField(child=TextField(), allow_empty=True, default=list)

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username=value).exists():
            raise serializers.ValidationError("a user with this name exists")
        return value


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "created", "actor", "action", "target", "address", "details"]
