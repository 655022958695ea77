"""The service's users, tokens and audit log."""

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestra import roles
from orchestra.actions import (
    SelfLockout,
    do_create_token,
    do_create_user,
    do_delete_user,
    do_revoke_token,
    do_set_user_roles,
    set_user_enabled,
)
from orchestra.api_errors import Conflict
from orchestra.api_views import ERRORS, ErrorSerializer
from orchestra.audit import Actor
from orchestra.database import with_many_to_many
from orchestra.authorization import AUTHENTICATED
from orchestra.filters import AuditEventFilter, UserFilter
from orchestra.models import AuditEvent, Token
from orchestra.serializers import (
    AuditEventSerializer,
    CreatedTokenSerializer,
    NewTokenSerializer,
    NewUserSerializer,
    RolesSerializer,
    TokenSerializer,
    UserSerializer,
)

VALIDATION = {400: OpenApiResponse(ErrorSerializer, description="Invalid request")}
LOCKOUT = {409: OpenApiResponse(ErrorSerializer, description="It would lock you out")}


def user_queryset():
    return with_many_to_many(User.objects, "groups").order_by("username")


def get_user(username: str) -> User:
    return get_object_or_404(user_queryset(), username=username)


class Me(APIView):
    """The user the request authenticates as."""

    required_authorization = AUTHENTICATED

    @extend_schema(responses={200: UserSerializer, **ERRORS})
    def get(self, request):
        return Response(UserSerializer(get_user(request.user.get_username())).data)


class UserList(generics.ListAPIView):
    """Users (administrators and auditors); administrators create them with POST."""

    required_authorization = roles.VIEW_USERS
    write_authorization = roles.MANAGE_USERS
    serializer_class = UserSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        return user_queryset()

    @extend_schema(request=NewUserSerializer, responses={201: UserSerializer, **VALIDATION, **ERRORS})
    def post(self, request):
        body = NewUserSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = do_create_user(data["username"], data["password"], data["roles"], Actor.from_request(request))
        return Response(UserSerializer(get_user(user.username)).data, status=201)


class UserDetail(APIView):
    required_authorization = roles.VIEW_USERS
    write_authorization = roles.MANAGE_USERS

    @extend_schema(responses={200: UserSerializer, **ERRORS})
    def get(self, request, username: str):
        return Response(UserSerializer(get_user(username)).data)

    @extend_schema(responses={204: None, **LOCKOUT, **ERRORS})
    def delete(self, request, username: str):
        try:
            do_delete_user(get_user(username), Actor.from_request(request))
        except SelfLockout as refusal:
            raise Conflict(str(refusal))
        return Response(status=204)


class UserRoles(APIView):
    """PUT the complete list of a user's roles."""

    required_authorization = roles.MANAGE_USERS

    @extend_schema(
        request=RolesSerializer, responses={200: UserSerializer, **VALIDATION, **LOCKOUT, **ERRORS}
    )
    def put(self, request, username: str):
        user = get_user(username)
        body = RolesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            do_set_user_roles(user, body.validated_data["roles"], Actor.from_request(request))
        except SelfLockout as refusal:
            raise Conflict(str(refusal))
        return Response(UserSerializer(get_user(username)).data)


class UserEnabled(APIView):
    required_authorization = roles.MANAGE_USERS
    enabled = True

    @extend_schema(request=None, responses={200: UserSerializer, **LOCKOUT, **ERRORS})
    def post(self, request, username: str):
        try:
            set_user_enabled(get_user(username), self.enabled, Actor.from_request(request))
        except SelfLockout as refusal:
            raise Conflict(str(refusal))
        return Response(UserSerializer(get_user(username)).data)


class UserTokens(generics.ListAPIView):
    """A user's live tokens' metadata (administrators and auditors)."""

    required_authorization = roles.VIEW_USERS
    serializer_class = TokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Token.objects.none()
        user = get_user(self.kwargs["username"])
        return Token.objects.filter(user=user, revoked=None).select_related("user").order_by("-created")


class UserTokenDetail(APIView):
    """DELETE revokes one of a user's tokens (administrators; rotating a worker's token)."""

    required_authorization = roles.MANAGE_USERS

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, username: str, token_id: int):
        token = get_object_or_404(
            Token.objects.select_related("user"), pk=token_id, user__username=username, revoked=None
        )
        do_revoke_token(token, Actor.from_request(request))
        return Response(status=204)


class TokenList(generics.ListAPIView):
    """The requesting user's own API tokens; POST creates one and shows its value once."""

    required_authorization = AUTHENTICATED
    serializer_class = TokenSerializer

    def get_queryset(self):
        return (
            Token.objects.filter(user=self.request.user, kind=Token.Kind.API, revoked=None)
            .select_related("user")
            .order_by("-created")
        )

    @extend_schema(
        request=NewTokenSerializer, responses={201: CreatedTokenSerializer, **VALIDATION, **ERRORS}
    )
    def post(self, request):
        body = NewTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, value = do_create_token(
            request.user, body.validated_data["description"], Actor.from_request(request)
        )
        token.value = value
        return Response(CreatedTokenSerializer(token).data, status=201)


class TokenDetail(APIView):
    """DELETE revokes one of the requesting user's own tokens."""

    required_authorization = AUTHENTICATED

    def get_token(self, request, token_id: int) -> Token:
        return get_object_or_404(
            Token.objects.select_related("user"), pk=token_id, user=request.user, revoked=None
        )

    @extend_schema(responses={200: TokenSerializer, **ERRORS})
    def get(self, request, token_id: int):
        return Response(TokenSerializer(self.get_token(request, token_id)).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, token_id: int):
        do_revoke_token(self.get_token(request, token_id), Actor.from_request(request))
        return Response(status=204)


class AuditList(generics.ListAPIView):
    required_authorization = roles.VIEW_AUDIT
    queryset = AuditEvent.objects.order_by("-created", "-id")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
