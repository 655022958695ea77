from django.urls import path

from runs import views

urlpatterns = [
    path("runs/", views.run_list, name="runs"),
    path("runs/<str:identifier>/", views.run_detail, name="run"),
    path("runs/<str:identifier>/log/", views.run_log, name="run-log"),
    path("runs/<str:identifier>/steps/<int:index>/raw", views.step_raw_log, name="run-step-raw"),
    path("runs/<str:identifier>/archive", views.run_archive, name="run-archive"),
    path("runs/<str:identifier>/abort", views.run_abort, name="run-abort"),
    path("runs/<str:identifier>/mark-exception", views.run_mark_exception, name="run-mark-exception"),
]
