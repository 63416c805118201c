"""Who the caller is: API tokens and ``/api/me``, and the ownership rule every endpoint that serves a
user's objects follows.

Ownership rule (reading: ``accounts.ownership``, shared with the stream): a user reads and changes only
their own objects; another user's object answers 404, exactly as an id that does not exist, so ids
cannot be probed. Staff may read anyone's objects (by id, or listed with ``?owner=<user_id>``) but the
API does not let them change or delete other users' objects: that is what the admin is for, where it is
recorded who did it.
"""

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import ownership
from config.api import (
    BAD_REQUEST_SCHEMA,
    DETAIL_SCHEMA,
    UNAUTHENTICATED,
    Conflict,
    PlainFormsMixin,
    StrictSerializerMixin,
)
from config.ids import UserIdField

STAFF_READ_ONLY = OpenApiResponse(
    DETAIL_SCHEMA, description="Staff may read other users' objects but not change them through the API."
)


# -- ownership ---------------------------------------------------------------------------------

OWNER_PARAMETER = OpenApiParameter(
    "owner",
    str,
    description="Staff only: list this user's objects instead of your own (their `user_id`). "
    "Anyone may pass their own `user_id`.",
)


# An id that is not a UUID does not match the path (config.ids): the same JSON 404 as an unknown one.
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The object's id.")


class OwnerQuerySerializer(PlainFormsMixin, serializers.Serializer):
    owner = UserIdField(required=False)


class OwnedObjectsMixin:
    """``get_queryset`` and ``get_object`` for a GenericAPIView over a model with an ``owner``.

    Set ``model`` and ``noun`` (``"strategies"``) on the view.
    """

    model = None
    noun = "objects"
    lookup_field = "pk"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return self.model.objects.select_related("owner")

    def list_queryset(self):
        """Return the caller's objects, or with ``?owner=`` (staff) another user's."""
        query = OwnerQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        user = self.request.user
        owner = query.validated_data.get("owner")
        objects = OwnedObjectsMixin.get_queryset(self)
        if owner is None or owner == user.user_id:
            return objects.filter(owner=user)
        if not user.is_staff:
            raise exceptions.PermissionDenied(f"Only staff may list other users' {self.noun}.")
        return objects.filter(owner__user_id=owner)

    def get_object(self):
        """Return the object if the caller may read it; 404 otherwise, whether it exists or not."""
        obj = super().get_object()
        if not ownership.may_read(self.request.user, obj):
            raise exceptions.NotFound(f"No {self.model._meta.object_name} matches the given query.")
        return obj

    def get_object_to_change(self):
        """Return the object if the caller may change it: only its owner may."""
        obj = self.get_object()
        if obj.owner_id != self.request.user.pk:
            raise exceptions.PermissionDenied(f"Staff may read other users' {self.noun} but not change them.")
        return obj


class OwnedObjectDetailView(OwnedObjectsMixin, generics.GenericAPIView):
    """GET, PUT, PATCH and DELETE of one owned object, under the ownership rule, through the domain's actions.

    Set ``model``, ``noun``, ``serializer_class`` (the answer), ``input_serializer_class`` (what PUT and PATCH
    take; given ``context={"owner": user}``), and the actions as static methods: ``change(obj, **fields)``
    returning the changed object, and ``remove(obj)``. ``conflicts`` are the domain's exceptions that answer
    409 with their message (a stale version, an object in use).
    """

    input_serializer_class = None
    conflicts: tuple[type[Exception], ...] = ()

    @staticmethod
    def change(obj, **fields):
        raise NotImplementedError

    @staticmethod
    def remove(obj) -> None:
        raise NotImplementedError

    def get(self, request, id):
        return Response(self.serializer_class(self.get_object()).data)

    def put(self, request, id):
        return self._change(request, partial=False)

    def patch(self, request, id):
        return self._change(request, partial=True)

    def _change(self, request, partial):
        obj = self.get_object_to_change()
        data = self.input_serializer_class(obj, data=request.data, partial=partial, context={"owner": request.user})
        data.is_valid(raise_exception=True)
        try:
            obj = self.change(obj, **data.validated_data)
        except self.conflicts as e:
            raise Conflict(str(e)) from e
        return Response(self.serializer_class(obj).data)

    def delete(self, request, id):
        try:
            self.remove(self.get_object_to_change())
        except self.conflicts as e:
            raise Conflict(str(e)) from e
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- tokens and /api/me ------------------------------------------------------------------------


class CredentialsSerializer(StrictSerializerMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs):
        user = authenticate(self.context["request"], username=attrs["username"], password=attrs["password"])
        if user is None:
            # One message whichever part was wrong (or the account is inactive), so accounts cannot be probed.
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with the username and password given."]}
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    user_id = serializers.CharField()


class MeSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()


class TokenView(APIView):
    # No authentication: a stale Bearer header or a session without a CSRF token must not stop a login.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_obtain",
        summary="Exchange a username and password for an API token",
        description="Returns the user's token, creating it on first use; every client of a user gets the same "
        "token until it is rotated with `manage.py issue_token --rotate USERNAME`. Send it as "
        "`Authorization: Bearer <token>`.",
        tags=["auth"],
        auth=[],
        request=CredentialsSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(
                BAD_REQUEST_SCHEMA,
                description="Missing fields, or the username and password do not match an active user.",
                examples=[
                    OpenApiExample(
                        "Wrong credentials",
                        {"non_field_errors": ["Unable to log in with the username and password given."]},
                    )
                ],
            ),
        },
        examples=[
            OpenApiExample("Credentials", {"username": "demo", "password": "demo-trader-2024"}, request_only=True),
            OpenApiExample(
                "Token",
                {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc"},
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        user = credentials.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "user_id": user.user_id})


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        summary="Who am I",
        description="The authenticated user. `user_id` is the id every other endpoint uses for users.",
        tags=["auth"],
        responses={200: MeSerializer, 401: UNAUTHENTICATED},
        examples=[
            OpenApiExample(
                "Me", {"user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc", "username": "demo", "is_staff": False}
            )
        ],
    )
    def get(self, request):
        user = request.user
        return Response({"user_id": user.user_id, "username": user.username, "is_staff": user.is_staff})
