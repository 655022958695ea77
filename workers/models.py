"""Workers register themselves by connecting with a token of a user holding the worker role."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Worker(models.Model):
    identifier = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="workers"
    )
    properties = models.JSONField(default=dict, blank=True)
    version = models.CharField(max_length=50, blank=True)
    executors = models.PositiveIntegerField(default=1)
    is_enabled = models.BooleanField(default=True)
    is_connected = models.BooleanField(default=False)
    # The channel-layer name of the consumer serving this worker's connection, so an abort or
    # a wake-up reaches the right master process.
    channel_name = models.CharField(max_length=200, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier

    def get_absolute_url(self) -> str:
        return reverse("worker", args=[self.identifier])

    @property
    def is_inactive(self) -> bool:
        """Disconnected longer than WORKER_INACTIVE_AFTER: its runs stay `running` until it
        returns or an administrator marks them `exception`."""
        if self.is_connected:
            return False
        limit = timedelta(seconds=settings.WORKER_INACTIVE_AFTER)
        return self.last_seen is None or timezone.now() - self.last_seen > limit
