from rest_framework import serializers

from workers.models import Worker


class WorkerSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Worker
        fields = [
            "identifier", "owner", "properties", "version", "executors", "is_enabled",
            "is_connected", "last_seen", "created",
        ]
