"""What every API view shares: strict input and one error format.

Errors are DRF's usual shapes, so a client handles them one way everywhere:
``{"field": ["message", ...], ...}`` for invalid input (the key names the field, nested keys with
dots) and ``{"detail": "message"}`` for everything else.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from config.ascii import is_ascii_number, is_iso_date, is_plain_decimal
from live_trading.refusals import Refused

NUMBER_FIELDS = (serializers.DecimalField, serializers.IntegerField, serializers.FloatField)


def plain_form_error(field: serializers.Field, value) -> str | None:
    """Why ``value``, given as text for ``field``, is not in the plain form the API takes; None if it is.

    A number written as a string must be a plain ASCII decimal (``"1000000.00"``, ``"-3"``), a date
    exactly ``YYYY-MM-DD`` in ASCII (config.ascii): DRF's fields would parse ``"１２"``, ``"1_000"``,
    ``" 12 "``, ``"20241029"`` or ``"２０２４-10-29"``. The messages are the fields' own.
    """
    if not isinstance(value, str):
        return None
    if isinstance(field, NUMBER_FIELDS) and not is_plain_decimal(value):
        return field.error_messages["invalid"]
    if isinstance(field, serializers.DateField) and not is_iso_date(value):
        return field.error_messages["invalid"].format(format="YYYY-MM-DD")
    return None


class PlainFormsMixin:
    """Refuse numbers and dates given as text in any but their plain ASCII form (``plain_form_error``).

    Every serializer that reads input has it: bodies through ``StrictSerializerMixin``, query
    parameters directly. The error names the field: ``{"starting_capital": ["A valid number is required."]}``.
    """

    def to_internal_value(self, data):
        if hasattr(data, "get"):  # a dict body or a QueryDict (its last value, as DRF's fields read it)
            errors = {}
            for name, field in self.fields.items():
                if not field.read_only and (error := plain_form_error(field, data.get(name))):
                    errors[name] = [error]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializerMixin(PlainFormsMixin):
    """Refuse fields the serializer does not know, instead of silently dropping them.

    A typo such as ``speed_multipler`` must come back as an error, not run at the default speed.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - known)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class BodylessView(APIView):
    """A view whose requests carry no body (a stop, a pause, a token): an empty body or ``{}`` only.

    Anything else is refused like unknown fields of a strict body (``{"bogus": ["Unknown field."]}``),
    and malformed JSON is the usual 400, rather than being ignored.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            data = request.data  # parses, or raises DRF's 400 for malformed JSON
            if isinstance(data, dict):
                if data:
                    raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(data)})
            elif data not in (None, "", b""):
                raise serializers.ValidationError({"non_field_errors": ["This endpoint takes no body."]})


class Conflict(exceptions.APIException):
    """A 409: the thing is not in a state that allows this (a session's status, a connection in use)."""

    status_code = 409
    default_code = "conflict"
    default_detail = "the object is not in a state that allows this"


class Pagination(PageNumberPagination):
    """DRF's page numbers, ASCII digits only: ``?page=٣`` is an invalid page (404), not page 3."""

    def get_page_number(self, request, paginator):
        number = super().get_page_number(request, paginator)
        if number not in self.last_page_strings and not is_ascii_number(str(number)):
            raise exceptions.NotFound("Invalid page.")
        return number


class StrictSerializerSchema(OpenApiSerializerExtension):
    """In the OpenAPI schema, a strict serializer's object admits no other properties, as the server."""

    target_class = StrictSerializerMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if "__doc__" not in vars(type(self.target)) or type(self.target).__doc__ is None:
            schema.pop("description", None)  # the mixin's own docstring, inherited: not the body's description
        return {**schema, "additionalProperties": False}


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError and the domain's refusals as a 400 naming the field,
    and a clearer message for bad JSON."""
    if isinstance(exc, Refused):  # the one place a domain refusal becomes an API answer
        exc = exceptions.ValidationError({exc.subject: [str(exc)]})
    elif isinstance(exc, RecursionError):  # JSON nested deeper than the parser can follow
        exc = exceptions.ParseError("body: JSON is nested too deeply")
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(f"body: {exc.detail}")
    return drf_exception_handler(exc, context)


# -- error shapes, for the OpenAPI schema ------------------------------------------------------

FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": 'Invalid input: each key names a field (nested ones with dots), e.g. {"name": ["This field is required."]}.',
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A 400 is usually per-field, but a malformed body ({"detail": "body: JSON parse error ..."}) is not.
BAD_REQUEST_SCHEMA = {"oneOf": [DETAIL_SCHEMA, FIELD_ERRORS_SCHEMA]}

BAD_REQUEST = OpenApiResponse(BAD_REQUEST_SCHEMA, description="Invalid input; the body names each bad field.")
UNAUTHENTICATED = OpenApiResponse(
    DETAIL_SCHEMA,
    description="No or bad credentials.",
    examples=[OpenApiExample("No credentials", {"detail": "Authentication credentials were not provided."})],
)
NOT_FOUND = OpenApiResponse(
    DETAIL_SCHEMA,
    description="No such object, or it belongs to another user.",
    examples=[OpenApiExample("Not found", {"detail": "No Strategy matches the given query."})],
)
CONFLICT = OpenApiResponse(DETAIL_SCHEMA, description="The object is not in a state that allows this.")
FORBIDDEN = OpenApiResponse(DETAIL_SCHEMA, description="Not allowed for this user (staff only).")
TOO_MANY = OpenApiResponse(DETAIL_SCHEMA, description="A limit was reached; the message says which.")

_ERRORS = {400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT, 429: TOO_MANY}


def errors(*codes: int) -> dict:
    """The documented error responses of an operation, for ``extend_schema(responses=...)``."""
    return {code: _ERRORS[code] for code in codes}
