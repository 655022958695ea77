from django.urls import path

from projects import views

urlpatterns = [
    path("projects/", views.project_list, name="projects"),
    path("projects/<slug:project>/", views.project_detail, name="project"),
    path("projects/<slug:project>/status/", views.project_status, name="project-status"),
    path("projects/<slug:project>/jobs/<slug:job>/", views.job_detail, name="job"),
    path("projects/<slug:project>/jobs/<slug:job>/trigger", views.job_trigger, name="job-trigger"),
    path(
        "projects/<slug:project>/jobs/<slug:job>/enabled",
        views.job_set_enabled,
        name="job-set-enabled",
    ),
    path(
        "projects/<slug:project>/schedules/<slug:schedule>/enabled",
        views.schedule_set_enabled,
        name="schedule-set-enabled",
    ),
    path("jobs/", views.job_list, name="jobs"),
    path("schedules/", views.schedule_list, name="schedules"),
]
