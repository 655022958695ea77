"""Website routes of accounts, included by orchestra/web_urls.py."""

from django.urls import path

from orchestra import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("me/", views.profile, name="profile"),
    path("me/tokens/<pk:token_id>/revoke/", views.revoke_own_token, name="revoke-own-token"),
    path("me/password/", views.change_password, name="change-password"),
    path("users/", views.user_list, name="users"),
    path("users/create/", views.user_create, name="user-create"),
    path("users/<str:username>/", views.user_detail, name="user"),
    path("users/<str:username>/roles/", views.user_roles, name="user-roles"),
    path("users/<str:username>/enable/", views.user_enable, name="user-enable"),
    path("users/<str:username>/disable/", views.user_disable, name="user-disable"),
    path("users/<str:username>/delete/", views.user_delete, name="user-delete"),
    path(
        "users/<str:username>/tokens/<pk:token_id>/revoke/",
        views.user_revoke_token,
        name="user-revoke-token",
    ),
    path("audit/", views.audit_log, name="audit"),
]
