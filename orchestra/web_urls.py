from django.urls import include, path

urlpatterns = [
    path("", include("runs.urls")),
    path("", include("projects.urls")),
    path("", include("workers.urls")),
]
