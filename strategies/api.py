"""Strategy endpoints: list, create, read, replace, change, delete, and validate a graph without saving.

Who may do what follows accounts.api (owners change their own; staff read anyone's; others get 404).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import ID_PARAMETER, OWNER_PARAMETER, STAFF_READ_ONLY, OwnedObjectsMixin
from config.api import BAD_REQUEST, DETAIL_SCHEMA, NOT_FOUND, UNAUTHENTICATED
from strategies import actions
from strategies.graph.examples import ATM_SHORT_CALL
from strategies.models import Strategy
from strategies.serializers import (
    GraphCheckSerializer,
    GraphValidSerializer,
    StrategyInputSerializer,
    StrategySerializer,
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
        strategy = actions.create_strategy(request.user, **data.validated_data)
        return Response(StrategySerializer(strategy).data, status=status.HTTP_201_CREATED)


_CHANGE_RESPONSES = {
    200: StrategySerializer,
    400: GRAPH_BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: STAFF_READ_ONLY,
    404: NOT_FOUND,
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
        description="Sessions that ran it keep their copy of the graph, name and version.",
        responses={204: None, 401: UNAUTHENTICATED, 403: STAFF_READ_ONLY, 404: NOT_FOUND},
    ),
)
class StrategyDetailView(OwnedObjectsMixin, generics.GenericAPIView):
    model = Strategy
    noun = "strategies"
    serializer_class = StrategySerializer

    def get(self, request, id):
        return Response(StrategySerializer(self.get_object()).data)

    def put(self, request, id):
        return self._change(request, partial=False)

    def patch(self, request, id):
        return self._change(request, partial=True)

    def _change(self, request, partial):
        strategy = self.get_object_to_change()
        data = StrategyInputSerializer(strategy, data=request.data, partial=partial, context={"owner": request.user})
        data.is_valid(raise_exception=True)
        strategy = actions.update_strategy(strategy, **data.validated_data)
        return Response(StrategySerializer(strategy).data)

    def delete(self, request, id):
        actions.delete_strategy(self.get_object_to_change())
        return Response(status=status.HTTP_204_NO_CONTENT)


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
