"""Broker connection endpoints: list, create, read, replace, change and delete the caller's connections.

Who may do what follows accounts.api (owners change their own; staff read anyone's; others get 404).
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.api import (
    ID_PARAMETER,
    OWNER_PARAMETER,
    STAFF_READ_ONLY,
    OwnedObjectDetailView,
    OwnedObjectsMixin,
)
from config import ids  # noqa: F401  (registers the id converters these paths use)
from config.api import BAD_REQUEST, DETAIL_SCHEMA, NOT_FOUND, UNAUTHENTICATED, StrictSerializerMixin
from live_trading import broker_actions
from live_trading.engine import fees
from live_trading.models import BrokerConnection, FeeKind

TAGS = ["broker connections"]


FEE_FIELDS = ("fee_model", "fee_per_order", "fee_percent", "fee_cap", "slippage_ticks")


class BrokerConnectionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.user_id", read_only=True, help_text="The owner's `user_id`.")

    class Meta:
        model = BrokerConnection
        fields = ("id", "owner", "name", "broker_type", "account_id", "starting_capital", *FEE_FIELDS, "created_at")
        read_only_fields = fields


@extend_schema_field({
    "oneOf": [
        # ASCII digits, at most 14 before the point and 2 after, not all zeros: 0.01 or more, as the server
        {"type": "string", "pattern": r"^(?=[0-9.]*[1-9])0*[0-9]{1,14}(\.[0-9]{1,2})?$"},
        {"type": "number", "minimum": 0.01, "maximum": 99999999999999.99},
    ],
    "description": 'Rupees from 0.01, a decimal string with at most two places, e.g. "1000000.00" '
                   "(a JSON number is taken too, with at most two places).",
})
class CapitalField(serializers.DecimalField):
    """Starting capital: rupees from 0.01, at most two places; its schema says exactly what it takes."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=16, decimal_places=2, min_value=Decimal("0.01"), **kwargs)


def _fee_rupees(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=2, min_value=Decimal(0),
                                    max_value=Decimal(fees.MAX_FEE_PAISE) / 100, required=False, allow_null=True,
                                    help_text=help_text)


class BrokerConnectionInputSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """Create (POST), replace (PUT) or change (PATCH, ``partial=True``) a connection.

    ``context["owner"]`` is the user whose (broker_type, account_id) pairs must stay unique.
    """

    starting_capital = CapitalField()
    account_id = serializers.CharField(max_length=64, help_text="The account at the broker.")
    fee_model = serializers.ChoiceField(
        choices=FeeKind.choices, required=False,
        help_text="What each order pays: `nse_fo` (the dated NSE F&O schedule, the default), `none`, `per_order` "
                  "(`fee_per_order` rupees an order) or `percent` (`fee_percent` of turnover, at most `fee_cap`). "
                  "Changing it clears the parameters the new model does not take.")
    fee_per_order = _fee_rupees("Rupees per executed order; required with `per_order`, refused with the others.")
    fee_percent = serializers.DecimalField(
        max_digits=8, decimal_places=fees.PERCENT_PLACES, min_value=Decimal(0), max_value=fees.MAX_PERCENT,
        required=False, allow_null=True,
        help_text="Per cent of each order's turnover (`0.03` is 0.03%); required with `percent`, refused with the others.")
    fee_cap = _fee_rupees("Most rupees one order pays under `percent`; null for no cap; refused with the other models.")
    slippage_ticks = serializers.IntegerField(
        min_value=0, max_value=fees.MAX_SLIPPAGE_TICKS, required=False,
        help_text="Market orders fill this many price ticks worse than the LTP (a buy higher, a sell lower); "
                  "the tick is the instrument's, 0.05 for NSE options. Default 0.")

    class Meta:
        model = BrokerConnection
        fields = ("name", "broker_type", "account_id", "starting_capital", *FEE_FIELDS)
        extra_kwargs = {"name": {"help_text": "A label of your choice; may be empty."}}

    def validate(self, attrs):
        self._check_fees(attrs)
        current = self.instance
        broker_type = attrs.get("broker_type", current.broker_type if current else BrokerConnection.BrokerType.PAPER)
        account_id = attrs.get("account_id", current.account_id if current else None)
        taken = BrokerConnection.objects.filter(
            owner=self.context["owner"], broker_type=broker_type, account_id=account_id
        )
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            raise serializers.ValidationError(
                {"account_id": [broker_actions.account_taken_message(broker_type, account_id)]}
            )
        return attrs

    def _check_fees(self, attrs) -> None:
        """Check the fee model the connection will have (``fees.FeeModel``), refusing naming the field.

        A change of ``fee_model`` that does not give a parameter clears it, so ``{"fee_model": "none"}``
        is enough to leave ``percent``; a parameter given with a model that does not take it is refused.
        """
        current = self.instance
        kind = attrs.get("fee_model", current.fee_model if current else fees.NSE_FO)
        kept = current is not None and kind == current.fee_model
        for name in FEE_FIELDS[1:4]:
            if name not in attrs:
                attrs[name] = getattr(current, name) if kept else None
        attrs["fee_model"] = kind
        try:
            BrokerConnection(**{name: attrs[name] for name in FEE_FIELDS[:4]}).engine_fees()
        except fees.InvalidFees as exc:
            raise serializers.ValidationError({exc.subject: [str(exc)]}) from None


EXAMPLE_CONNECTION = {
    "id": "8d0f7a52-1c3e-4b6a-9f21-2e5d7c9b4a10",
    "owner": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc",
    "name": "Paper trading",
    "broker_type": "paper",
    "account_id": "PAPER-DEMO-001",
    "starting_capital": "1000000.00",
    "fee_model": "nse_fo",
    "fee_per_order": None,
    "fee_percent": None,
    "fee_cap": None,
    "slippage_ticks": 0,
    "created_at": "2024-11-04T09:10:02.117000+05:30",
}
EXAMPLE_INPUT = {"name": "Paper trading", "broker_type": "paper", "account_id": "PAPER-DEMO-001",
                 "starting_capital": "1000000.00"}
CAPITAL_ERROR_EXAMPLE = OpenApiExample(
    "Too many decimal places",
    {"starting_capital": ["Ensure that there are no more than 2 decimal places."]},
    response_only=True,
    status_codes=["400"],
)
FEES_EXAMPLE = OpenApiExample(
    "0.03% of turnover, at most Rs 20 an order, one tick of slippage",
    {**EXAMPLE_INPUT, "account_id": "PAPER-DEMO-002", "fee_model": "percent", "fee_percent": "0.03",
     "fee_cap": "20.00", "slippage_ticks": 1},
    request_only=True,
)
FEES_ERROR_EXAMPLE = OpenApiExample(
    "A cap without the percent fee model",
    {"fee_cap": ["only the percent fee model takes it; this one is per_order"]},
    response_only=True,
    status_codes=["400"],
)
_CHANGE_RESPONSES = {
    200: BrokerConnectionSerializer,
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: STAFF_READ_ONLY,
    404: NOT_FOUND,
}


@extend_schema_view(
    get=extend_schema(
        operation_id="broker_connections_list",
        summary="List your broker connections",
        description="Oldest first, 50 a page. Staff may pass `?owner=<user_id>` for another user's.",
        tags=TAGS,
        parameters=[OWNER_PARAMETER],
        responses={
            200: BrokerConnectionSerializer(many=True),
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: OpenApiResponse(DETAIL_SCHEMA, description="`owner` is another user and you are not staff."),
            404: OpenApiResponse(DETAIL_SCHEMA, description="No such page."),
        },
    ),
    post=extend_schema(
        operation_id="broker_connections_create",
        summary="Add a broker connection",
        description="`broker_type` defaults to `paper`, `fee_model` to `nse_fo` and `slippage_ticks` to 0. "
                    "A (broker_type, account_id) pair may appear once per user.",
        tags=TAGS,
        request=BrokerConnectionInputSerializer,
        responses={201: BrokerConnectionSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED},
        examples=[
            OpenApiExample("New connection", EXAMPLE_INPUT, request_only=True),
            FEES_EXAMPLE,
            OpenApiExample("Created", EXAMPLE_CONNECTION, response_only=True, status_codes=["201"]),
            CAPITAL_ERROR_EXAMPLE,
            FEES_ERROR_EXAMPLE,
        ],
    ),
)
class BrokerConnectionListCreateView(OwnedObjectsMixin, generics.ListAPIView):
    model = BrokerConnection
    noun = "broker connections"
    serializer_class = BrokerConnectionSerializer

    def get_queryset(self):
        return self.list_queryset()

    def post(self, request):
        data = BrokerConnectionInputSerializer(data=request.data, context={"owner": request.user})
        data.is_valid(raise_exception=True)
        connection = broker_actions.create_broker_connection(request.user, **data.validated_data)
        return Response(BrokerConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="broker_connections_read",
        parameters=[ID_PARAMETER],
        summary="Read a broker connection",
        description="Yours, or anyone's if you are staff.",
        tags=TAGS,
        responses={200: BrokerConnectionSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        examples=[OpenApiExample("Connection", EXAMPLE_CONNECTION)],
    ),
    put=extend_schema(
        operation_id="broker_connections_replace",
        parameters=[ID_PARAMETER],
        summary="Replace a broker connection",
        description="Sessions already started keep the capital, fee model and slippage they started with.",
        tags=TAGS,
        request=BrokerConnectionInputSerializer,
        responses=_CHANGE_RESPONSES,
        examples=[CAPITAL_ERROR_EXAMPLE],
    ),
    patch=extend_schema(
        operation_id="broker_connections_change",
        parameters=[ID_PARAMETER],
        summary="Change some fields of a broker connection",
        description="Sessions already started keep the capital, fee model and slippage they started with.",
        tags=TAGS,
        request=BrokerConnectionInputSerializer,
        responses=_CHANGE_RESPONSES,
        examples=[
            OpenApiExample("New capital", {"starting_capital": "500000.00"}, request_only=True),
            OpenApiExample("No charges, two ticks of slippage", {"fee_model": "none", "slippage_ticks": 2},
                           request_only=True),
            CAPITAL_ERROR_EXAMPLE,
            FEES_ERROR_EXAMPLE,
        ],
    ),
    delete=extend_schema(
        operation_id="broker_connections_delete",
        parameters=[ID_PARAMETER],
        summary="Delete a broker connection",
        description="Refused with 409 while a session that has not ended (created, running or paused) uses it. "
        "Ended sessions keep their results and lose the link.",
        tags=TAGS,
        responses={
            204: None,
            401: UNAUTHENTICATED,
            403: STAFF_READ_ONLY,
            404: NOT_FOUND,
            409: OpenApiResponse(
                DETAIL_SCHEMA,
                description="A session that has not ended uses the connection.",
                examples=[
                    OpenApiExample(
                        "In use",
                        {"detail": "This broker connection is used by 1 session(s) that have not ended "
                         "(sim-4f9a1c2b3d4e); stop them before deleting it."},
                    )
                ],
            ),
        },
    ),
)
class BrokerConnectionDetailView(OwnedObjectDetailView):
    model = BrokerConnection
    noun = "broker connections"
    serializer_class = BrokerConnectionSerializer
    input_serializer_class = BrokerConnectionInputSerializer
    conflicts = (broker_actions.BrokerConnectionInUse,)
    change = staticmethod(broker_actions.update_broker_connection)
    remove = staticmethod(broker_actions.delete_broker_connection)


urlpatterns = [
    path("", BrokerConnectionListCreateView.as_view(), name="api-broker-connections"),
    path("<object_id:id>/", BrokerConnectionDetailView.as_view(), name="api-broker-connection"),
]
