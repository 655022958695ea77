from django.urls import include, path

from orchestra.admin import admin_site
from orchestra.metrics import serve_metrics

urlpatterns = [
    path("admin/", admin_site.urls),
    path("api/", include("orchestra.api_urls")),
    path("metrics", serve_metrics, name="metrics"),
    path("", include("orchestra.web_urls")),
]

# A list's query string the list cannot use is a 400 page that says why (orchestra/website.py).
handler400 = "orchestra.views.bad_request"
