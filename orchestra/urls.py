from django.urls import include, path

from orchestra.admin import admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("api/", include("orchestra.api_urls")),
    path("", include("orchestra.web_urls")),
]
