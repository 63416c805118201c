"""What every API view shares: strict input and one error format.

Errors are DRF's usual shapes, so a client handles them one way everywhere:
``{"field": ["message", ...], ...}`` for invalid input (the key names the field, nested keys with
dots) and ``{"detail": "message"}`` for everything else.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler


class StrictSerializerMixin:
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


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError as a 400 and a clearer message for bad JSON."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(f"body: {exc.detail}")
    return drf_exception_handler(exc, context)
