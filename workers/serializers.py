from rest_framework import serializers

from orchestra.models import Master
from workers.models import Worker


class WorkerSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Worker
        fields = [
            "identifier", "owner", "properties", "version", "executors", "is_enabled",
            "is_connected", "last_seen", "created",
        ]


class MasterSerializer(serializers.ModelSerializer):
    serves = serializers.ListField(child=serializers.CharField(), source="served_applications")
    is_alive = serializers.BooleanField(
        read_only=True, help_text="false once it stopped, or its heartbeat is older than ORCHESTRA_MASTER_GONE_AFTER"
    )
    holds_configuration_in_force = serializers.BooleanField(
        read_only=True, help_text="its configuration's fingerprint is the one in force"
    )

    class Meta:
        model = Master
        fields = [
            "host", "pid", "serves", "version", "fingerprint", "holds_configuration_in_force",
            "started", "heartbeat", "stopped", "is_alive",
        ]
