from django.urls import include, path

urlpatterns = [
    path("", include("orchestra.account_urls")),
    path("", include("runs.urls")),
    path("", include("projects.urls")),
    path("", include("workers.urls")),
]
