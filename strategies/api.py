"""Strategy endpoints: list, create, read, replace, change, delete, validate a graph without saving, and
read the versions every edit keeps.

Who may do what follows accounts.api (owners change their own; staff read anyone's; others get 404).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import ownership
from accounts.api import (
    ID_PARAMETER,
    OWNER_PARAMETER,
    STAFF_READ_ONLY,
    OwnedObjectDetailView,
    OwnedObjectsMixin,
)
from config.api import BAD_REQUEST, DETAIL_SCHEMA, NOT_FOUND, UNAUTHENTICATED
from strategies import actions
from strategies.graph.examples import ATM_SHORT_CALL
from strategies.models import Strategy, StrategyVersion
from strategies.serializers import (
    GraphCheckSerializer,
    GraphValidSerializer,
    StrategyInputSerializer,
    StrategySerializer,
    StrategyVersionSerializer,
    StrategyVersionSummarySerializer,
)

EXAMPLE_GRAPH = ATM_SHORT_CALL
EXAMPLE_STRATEGY = {
    "id": "3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f4a1b2c",
    "owner": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc",
    "name": "ATM short call",
    "description": "",
    "version": 1,
    "graph": EXAMPLE_GRAPH,
    "created_at": "2024-11-04T09:12:30.512000+05:30",
    "updated_at": "2024-11-04T09:12:30.512000+05:30",
}
INVALID_GRAPH_EXAMPLE = OpenApiExample(
    "Invalid graph",
    {"graph": ["nodes[1].config.strike.offset: must be an integer between -20 and 20"]},
    response_only=True,
    status_codes=["400"],
)
GRAPH_BAD_REQUEST = OpenApiResponse(
    BAD_REQUEST.response,
    description="Invalid input. An invalid graph gives every problem under `graph`, each as `path: message`; "
    "a graph may have at most 200 nodes and 256 KB of compact JSON.",
)


@extend_schema_view(
    get=extend_schema(
        operation_id="strategies_list",
        tags=["strategies"],
        summary="List your strategies",
        description="Your strategies, by name, 50 a page. Staff may pass `?owner=<user_id>` for another user's.",
        parameters=[OWNER_PARAMETER],
        responses={
            200: StrategySerializer(many=True),
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: OpenApiResponse(DETAIL_SCHEMA, description="`owner` is another user and you are not staff."),
            404: OpenApiResponse(NOT_FOUND.response, description="No such page."),
        },
    ),
    post=extend_schema(
        operation_id="strategies_create",
        tags=["strategies"],
        summary="Create a strategy",
        description="Validates the graph in full; `name` and `description` default to the graph's. "
        "The new strategy is at version 1.",
        request=StrategyInputSerializer,
        responses={201: StrategySerializer, 400: GRAPH_BAD_REQUEST, 401: UNAUTHENTICATED},
        examples=[
            OpenApiExample("New strategy", {"name": "ATM short call", "graph": EXAMPLE_GRAPH}, request_only=True),
            OpenApiExample("Created", EXAMPLE_STRATEGY, response_only=True, status_codes=["201"]),
            INVALID_GRAPH_EXAMPLE,
        ],
    ),
)
class StrategyListCreateView(OwnedObjectsMixin, generics.ListAPIView):
    model = Strategy
    noun = "strategies"
    serializer_class = StrategySerializer

    def get_queryset(self):
        return self.list_queryset()

    def post(self, request):
        data = StrategyInputSerializer(data=request.data, context={"owner": request.user})
        data.is_valid(raise_exception=True)
        data.validated_data.pop("base_version", None)  # a new strategy has no earlier version
        strategy = actions.create_strategy(request.user, **data.validated_data)
        return Response(StrategySerializer(strategy).data, status=status.HTTP_201_CREATED)


_CHANGE_RESPONSES = {
    200: StrategySerializer,
    400: GRAPH_BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: STAFF_READ_ONLY,
    404: NOT_FOUND,
    409: OpenApiResponse(
        DETAIL_SCHEMA,
        description="`base_version` was given and the strategy has been saved since: nothing is changed.",
    ),
}


@extend_schema_view(
    get=extend_schema(
        operation_id="strategies_read",
        parameters=[ID_PARAMETER],
        tags=["strategies"],
        summary="Read a strategy",
        description="Yours, or anyone's if you are staff.",
        responses={200: StrategySerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        examples=[OpenApiExample("Strategy", EXAMPLE_STRATEGY)],
    ),
    put=extend_schema(
        operation_id="strategies_replace",
        parameters=[ID_PARAMETER],
        tags=["strategies"],
        summary="Replace a strategy",
        description="Replaces name, description and graph (the first two default to the graph's) and bumps "
        "`version` by one. Sessions already running keep the version they started with.",
        request=StrategyInputSerializer,
        responses=_CHANGE_RESPONSES,
        examples=[INVALID_GRAPH_EXAMPLE],
    ),
    patch=extend_schema(
        operation_id="strategies_change",
        parameters=[ID_PARAMETER],
        tags=["strategies"],
        summary="Change some fields of a strategy",
        description="Changes only the fields given and bumps `version` by one.",
        request=StrategyInputSerializer(partial=True),
        responses=_CHANGE_RESPONSES,
        examples=[
            OpenApiExample("Rename", {"name": "ATM short call, 2 lots"}, request_only=True),
            INVALID_GRAPH_EXAMPLE,
        ],
    ),
    delete=extend_schema(
        operation_id="strategies_delete",
        parameters=[ID_PARAMETER],
        tags=["strategies"],
        summary="Delete a strategy",
        description="Deletes the strategy and its versions; sessions that ran it keep their copy of the graph, "
        "name and version. Refused (409) while a session that has not ended uses it.",
        responses={
            204: None,
            401: UNAUTHENTICATED,
            403: STAFF_READ_ONLY,
            404: NOT_FOUND,
            409: OpenApiResponse(
                DETAIL_SCHEMA,
                description="A session that has not ended (created, running or paused) uses the strategy.",
                examples=[
                    OpenApiExample(
                        "In use",
                        {"detail": "This strategy is used by session sim-4f9a1c2b3d4e (trading date 29 Oct 2024, "
                         "running); stop it before deleting the strategy."},
                    )
                ],
            ),
        },
    ),
)
class StrategyDetailView(OwnedObjectDetailView):
    model = Strategy
    noun = "strategies"
    serializer_class = StrategySerializer
    input_serializer_class = StrategyInputSerializer
    conflicts = (actions.StrategyChanged, actions.StrategyInUse)
    change = staticmethod(actions.update_strategy)
    remove = staticmethod(actions.delete_strategy)


# A version number beyond what the column holds matches no version (and must not reach the database).
MAX_VERSION = 2**31 - 1
VERSION_PARAMETER = OpenApiParameter(
    "version", OpenApiTypes.INT, OpenApiParameter.PATH, description="The version number (1 is the first saved)."
)
EXAMPLE_VERSION = {
    "version": 1,
    "name": "ATM short call",
    "description": "",
    "graph": EXAMPLE_GRAPH,
    "created_at": "2024-11-04T09:12:30.512000+05:30",
}


class StrategyVersionsMixin:
    """The versions of a strategy the caller may read: the strategy's own rule (its owner, or staff);
    another user's strategy is a 404, as one that does not exist."""

    def versions(self):
        strategy = Strategy.objects.filter(pk=self.kwargs["id"]).first()
        if strategy is None or not ownership.may_read(self.request.user, strategy):
            raise exceptions.NotFound("No Strategy matches the given query.")
        return StrategyVersion.objects.filter(strategy=strategy).order_by("-version")


@extend_schema_view(
    get=extend_schema(
        operation_id="strategies_versions_list",
        parameters=[ID_PARAMETER],
        tags=["strategies"],
        summary="List a strategy's versions",
        description="Every saved version of the strategy, newest first, 50 a page: each edit keeps the previous "
        "graph. Yours, or anyone's if you are staff.",
        responses={
            200: StrategyVersionSummarySerializer(many=True),
            401: UNAUTHENTICATED,
            404: OpenApiResponse(NOT_FOUND.response, description="No such strategy of yours, or no such page."),
        },
    ),
)
class StrategyVersionListView(StrategyVersionsMixin, generics.ListAPIView):
    serializer_class = StrategyVersionSummarySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StrategyVersion.objects.none()
        return self.versions()


@extend_schema_view(
    get=extend_schema(
        operation_id="strategies_versions_read",
        parameters=[ID_PARAMETER, VERSION_PARAMETER],
        tags=["strategies"],
        summary="Read one version of a strategy",
        description="The graph, name and description as they were saved at that version (read-only). "
        "A session records the version it ran as `strategy_version`.",
        responses={200: StrategyVersionSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        examples=[OpenApiExample("Version", EXAMPLE_VERSION)],
    ),
)
class StrategyVersionDetailView(StrategyVersionsMixin, generics.GenericAPIView):
    serializer_class = StrategyVersionSerializer

    def get(self, request, id, version):
        found = self.versions().filter(version=version).first() if 1 <= version <= MAX_VERSION else None
        if found is None:
            raise exceptions.NotFound("No StrategyVersion matches the given query.")
        return Response(StrategyVersionSerializer(found).data)


class GraphValidateView(APIView):
    @extend_schema(
        operation_id="strategies_validate",
        tags=["strategies"],
        summary="Validate a graph without saving it",
        description="Runs the same checks as create and update. 200 means the graph would be accepted.",
        request=GraphCheckSerializer,
        responses={200: GraphValidSerializer, 400: GRAPH_BAD_REQUEST, 401: UNAUTHENTICATED},
        examples=[
            OpenApiExample("Graph", {"graph": EXAMPLE_GRAPH}, request_only=True),
            OpenApiExample("Valid", {"valid": True}, response_only=True),
            INVALID_GRAPH_EXAMPLE,
        ],
    )
    def post(self, request):
        GraphCheckSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({"valid": True})
