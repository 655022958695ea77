from django.urls import path

from workers import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("workers/", views.worker_list, name="workers"),
    path("workers/<str:identifier>/", views.worker_detail, name="worker"),
    path("workers/<str:identifier>/enabled", views.worker_set_enabled, name="worker-set-enabled"),
]
