"""Session endpoints at the paths the product spec names (docs/protocol.md).

Each view checks who may see the session, validates with a serializer, calls one action and renders.
A session, or a user_id in a path, that is not the caller's is a 404 (staff may read and control any).
"""

from __future__ import annotations

import csv
import json

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import ownership
from accounts.api import OWNER_PARAMETER, OwnedObjectsMixin
from accounts.models import User
from config.api import BodylessView, Conflict, errors
from live_trading import actions, charts, market_cache, snapshots
from live_trading.api.serializers import (
    TRADE_FIELDS,
    CandleQuerySerializer,
    CandlesSerializer,
    EquityCurveSerializer,
    SessionFilterSerializer,
    SessionRowSerializer,
    SpeedSerializer,
    StartResponseSerializer,
    StartSerializer,
    TradeSerializer,
    money_field,
)
from live_trading.engine.fees import InvalidFees
from live_trading.marketdata.store import MarketDataMissing
from live_trading.stream.events import gzip_base64
from sessions_app import lifecycle
from sessions_app.models import EmergencyStop, SimulationSession
from strategies.graph.model import InvalidGraph


class TooManyRequests(exceptions.APIException):
    status_code = 429
    default_detail = "too many running sessions"


class RetryLater(TooManyRequests):
    """A 429 whose ``Retry-After`` header says in how many seconds a retry can succeed."""

    def __init__(self, detail: str, wait: int):
        super().__init__(detail)
        self.wait = wait  # DRF's exception handler turns it into the Retry-After header


def session_conflict(message: str, status: str | None) -> Conflict:
    """A 409 that says why and gives the session's current status: ``{"detail": ..., "status": ...}``."""
    return Conflict({"detail": message, "status": status})


def visible_sessions(user):
    return ownership.readable(user, SimulationSession.objects.select_related("owner", "broker_connection"))


def session_for(request, session_id: str) -> SimulationSession:
    return get_object_or_404(visible_sessions(request.user), pk=session_id)


def chart_session(request, session_id: str) -> SimulationSession:
    """The session for its charts (404 if the caller may not read it), without its large JSON columns."""
    return get_object_or_404(visible_sessions(request.user).defer("graph", "final_state"), pk=session_id)


def controlled_session(request, session_id: str) -> SimulationSession:
    """The session, if the caller may control it; 404 if they may not see it, 403 if they only may see it."""
    session = session_for(request, session_id)
    _check_control(request.user, session.owner)
    return session


def _check_control(user, owner) -> None:
    if not actions.may_control(user, owner):
        raise exceptions.PermissionDenied(
            f"controlling another user's sessions needs the {actions.CONTROL_OTHERS_PERMISSION} permission")


def user_for(request, user_id: str) -> User:
    user = ownership.readable_user(request.user, user_id)
    if user is None:
        raise Http404("no such user")
    return user


def session_row(session: SimulationSession) -> dict:
    """The session as ``/api/sessions/`` lists it, with its live totals."""
    return SessionRowSerializer(session, context={"summaries": snapshots.live_summaries([session])}).data


def stream_url(session_id: str) -> str:
    return f"/api/v2/live/stream/{session_id}"


START_EXAMPLE = OpenApiExample(
    "Start the demo straddle at real time",
    value={
        "user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc",
        "strategy_id": "64c2c932-0e0b-462a-9a36-7cda4371d102",
        "broker_connection_id": "acf98a95-1547-4a72-b824-3ce7068f05b4",
        "speed_multiplier": 1.0,
    },
    request_only=True,
)


class StartView(APIView):
    @extend_schema(
        summary="Start a strategy on a replayed trading day",
        request=StartSerializer,
        responses={201: StartResponseSerializer, **errors(400, 401, 429)},
        examples=[
            START_EXAMPLE,
            OpenApiExample(
                "Started", response_only=True, status_codes=["201"],
                value={"session_id": "sim-abc123def456", "stream_url": "/api/v2/live/stream/sim-abc123def456",
                       "status": "running"},
            ),
        ],
    )
    def post(self, request):
        serializer = StartSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        start = actions.StartRequest(
            strategy=data["strategy_id"], broker_connection=data["broker_connection_id"],
            speed_multiplier=data["speed_multiplier"], mode=data["mode"], start_date=data["date"],
            end_date=data["to"], underlying=data.get("underlying"), seed=data.get("seed"),
            stream_ticks=data["stream_ticks"], paused=data["paused"], fills_at=data["fills_at"],
        )
        try:
            session = actions.start_session(request.user, start)
        except InvalidGraph as exc:
            raise exceptions.ValidationError({"strategy_id": [f"the strategy is invalid: {e}" for e in exc.errors]}) from exc
        except InvalidFees as exc:  # the connection's fees, which the instrument's money cannot take
            raise exceptions.ValidationError({"broker_connection_id": [f"{exc.subject}: {exc}"]}) from exc
        except MarketDataMissing as exc:  # a later day of the range names `to`, the first names `date`
            raise exceptions.ValidationError({"to" if exc.day != data["date"] else "date": [str(exc)]}) from exc
        except actions.TooManySessions as exc:
            raise TooManyRequests(str(exc)) from exc
        except market_cache.GenerationLimitReached as exc:
            if exc.retry_after is None:  # no wait makes it fit
                raise exceptions.ValidationError({"to" if data["to"] != data["date"] else "date": [str(exc)]}) from exc
            raise RetryLater(str(exc), exc.retry_after) from exc
        return Response(
            {"session_id": session.id, "stream_url": stream_url(session.id), "status": session.status},
            status=status.HTTP_201_CREATED,
        )


class DashboardView(APIView):
    @extend_schema(summary="All of a user's sessions with their live state (no events history)",
                   responses={200: OpenApiTypes.OBJECT, **errors(401, 404)},
                   examples=[OpenApiExample("Dashboard (seed 004, abridged)", response_only=True, value={
                       "user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc", "total_sessions": 3, "active_sessions": 2,
                       "cache_time": "2024-10-29T11:00:00+05:30",
                       "sessions": {"sim-abc123": {
                           "session_id": "sim-abc123", "strategy_name": "NIFTY Straddle",
                           "broker_info": {"broker_type": "paper", "account_id": "PAPER-DEMO-001"},
                           "status": "running", "last_event_id": 42,
                           "progress": {"ticks_processed": 1543, "total_ticks": 22500, "progress_percentage": 6.86},
                           "data": {"is_fresh": True,
                                    "gps_data": {"positions": [], "trades": [], "pnl": {
                                        "realized_pnl": "5000.00", "unrealized_pnl": "1250.00",
                                        "total_pnl": "6250.00", "closed_trades": 2, "open_trades": 1}},
                                    "broker_data": {"orders": [], "account_info": {
                                        "available_margin": "50000.00", "used_margin": "25000.00",
                                        "total_value": "75000.00"}},
                                    "market_data": {"ltp_store": {"NIFTY": 25100.0}, "candle_data": {}}}}}})])
    def get(self, request, user_id):
        user = user_for(request, user_id)
        return Response(snapshots.dashboard(user))


class SessionStateView(APIView):
    @extend_schema(summary="One session with its live state, as in the dashboard",
                   responses={200: OpenApiTypes.OBJECT, **errors(401, 404)})
    def get(self, request, session_id):
        return Response(snapshots.session_state(session_for(request, session_id)))


class DiagnosticsView(APIView):
    @extend_schema(
        summary="Every node execution of a session (events_history) and each node's last state (current_state)",
        parameters=[OpenApiParameter("compress", bool, description="gzip + base64 the body into {\"diagnostics\": ...}")],
        responses={200: OpenApiTypes.OBJECT, **errors(401, 404)},
    )
    def get(self, request, session_id):
        session = session_for(request, session_id)
        body = snapshots.diagnostics(session)
        if request.query_params.get("compress", "").lower() in ("1", "true", "yes"):
            raw = json.dumps(body, separators=(",", ":")).encode()
            return Response({
                "session_id": session.id, "encoding": "gzip+base64",
                "diagnostics": gzip_base64(raw), "uncompressed_size": len(raw),
            })
        return Response(body)


STOPPED = inline_serializer("Stopped", {
    "session_id": serializers.CharField(), "status": serializers.CharField(), "message": serializers.CharField(),
    # its totals, as the session list shows them
    "total_trades": serializers.IntegerField(), "winning_trades": serializers.IntegerField(),
    "losing_trades": serializers.IntegerField(), "win_rate": serializers.DecimalField(max_digits=5, decimal_places=2),
    "gross_pnl": money_field(), "charges": money_field(), "realized_pnl": money_field(),
    "max_drawdown": money_field(),
})


class StopView(BodylessView):
    @extend_schema(summary="Stop one session", request=None, responses={200: STOPPED, **errors(401, 404)},
                   examples=[OpenApiExample("Stopped (seed 004)", response_only=True, value={
                       "session_id": "sim-abc123def456", "status": "stopped",
                       "message": "Session stopped successfully"})])
    def post(self, request, session_id):
        # Stopping is idempotent: a session that had already ended is a 200 too (its end state is what
        # the caller wants), with a message saying it was already so rather than claiming this stop.
        session = controlled_session(request, session_id)
        already_ended = session.status in lifecycle.FINAL
        session = actions.stop_session(session, request.user)
        if already_ended:
            message = f"Session already {session.status}"
        elif session.status == lifecycle.STOPPED:
            message = "Session stopped successfully"
        else:  # it ended by itself (completed, failed...) before the stop reached it
            message = f"Session {session.status} before the stop reached it"
        totals = snapshots.row_totals(snapshots.live_summaries([session])[session.id])
        return Response({"session_id": session.id, "status": session.status, "message": message, **totals})


class StopUserView(BodylessView):
    @extend_schema(summary="Stop every active session of a user", request=None,
                   responses={200: OpenApiTypes.OBJECT, **errors(401, 404)},
                   examples=[OpenApiExample("Stopped (seed 004)", response_only=True, value={
                       "user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc", "sessions_stopped": 3,
                       "stopped_sessions": ["sim-abc123", "sim-def456", "sim-ghi789"],
                       "message": "Stopped 3 session(s) for user user_2yfjTGEKjL7XkklQyBaMP6SN2Lc"})])
    def post(self, request, user_id):
        user = user_for(request, user_id)
        _check_control(request.user, user)
        stopped = actions.stop_sessions_of(user, request.user)
        return Response({
            "user_id": user.user_id, "sessions_stopped": len(stopped), "stopped_sessions": [s.id for s in stopped],
            "message": f"Stopped {len(stopped)} session(s) for user {user.user_id}",
        })


class MayStopAll(BasePermission):
    message = f"stopping every session needs staff status and the {actions.STOP_ALL_PERMISSION} permission"

    def has_permission(self, request, view):
        return actions.may_stop_all(request.user)


class StopAllView(BodylessView):
    permission_classes = [IsAuthenticated, MayStopAll]

    @extend_schema(summary="Emergency stop of every active session of every user (staff with the "
                           "sessions_app.stop_all_sessions permission); each call is recorded",
                   request=None, responses={200: OpenApiTypes.OBJECT, **errors(401, 403)},
                   examples=[OpenApiExample("Stopped (seed 004)", response_only=True, value={
                       "sessions_stopped": 2,
                       "stopped_sessions": [
                           {"session_id": "sim-abc123", "user_id": "user_001", "strategy_id": "strat-001"},
                           {"session_id": "sim-def456", "user_id": "user_002", "strategy_id": "strat-002"}],
                       "users_affected": 2, "stopped_by": "ops", "stopped_at": "2024-10-29T10:48:00+05:30",
                       "audit_id": 7, "message": "Stopped all 2 active session(s)"})])
    def post(self, request):
        record, stopped = actions.stop_all_sessions(request.user, EmergencyStop.Via.API)
        return Response({
            "sessions_stopped": record.sessions_stopped,
            "stopped_sessions": [
                {"session_id": s.id, "user_id": s.owner.user_id, "strategy_id": str(s.strategy_id) if s.strategy_id else None}
                for s in stopped
            ],
            "users_affected": record.users_affected,
            "stopped_by": record.stopped_by_username,
            "stopped_at": timezone.localtime(record.stopped_at).isoformat(),
            "audit_id": record.pk,
            "message": f"Stopped all {record.sessions_stopped} active session(s)",
        })


class _ControlView(APIView):
    def control(self, request, session_id, action, *args):
        session = controlled_session(request, session_id)
        if session.status in lifecycle.FINAL:
            raise session_conflict(f"the session is {session.status}", session.status)
        try:
            session = action(session, *args, request.user)
        except actions.SessionNotRunning as exc:
            raise session_conflict(str(exc), exc.status) from exc
        return Response(session_row(session))


class PauseView(BodylessView, _ControlView):
    @extend_schema(summary="Pause a running session at the next tick", request=None,
                   responses={200: SessionRowSerializer, **errors(401, 404, 409)})
    def post(self, request, session_id):
        return self.control(request, session_id, actions.pause_session)


class ResumeView(BodylessView, _ControlView):
    @extend_schema(
        summary="Resume a paused session, or an interrupted one exactly where it stopped",
        description="A paused session goes on at once. An interrupted session (its server stopped or was "
                    "killed) is rebuilt in this process and replayed up to its last stored event, each "
                    "replayed event checked against the stored ones, then goes on live at its speed from that "
                    "exchange time; its stream goes on with the next event number. The answer comes once it "
                    "runs again (the replay then takes a moment); if the replay differs from what was stored "
                    "(its market data replaced), the session becomes `failed` with that reason and keeps "
                    "every row. 409 for a session that is neither paused nor interrupted, or that cannot be "
                    "rebuilt (its market data gone, its user at the limit of running sessions), with the "
                    "reason and its status.",
        request=None, responses={200: SessionRowSerializer, **errors(401, 404, 409)},
        examples=[OpenApiExample("Cannot resume", response_only=True, status_codes=["409"], value={
            "detail": "only an interrupted session can be resumed; this one is completed", "status": "completed"})],
    )
    def post(self, request, session_id):
        session = controlled_session(request, session_id)
        if session.status in lifecycle.RESUMABLE:
            try:
                session = actions.resume_interrupted(session, f"resumed by {request.user.username}", go_on=True)
            except actions.CannotResume as exc:
                raise session_conflict(str(exc), exc.status) from exc
            return Response(session_row(session))
        return self.control(request, session_id, actions.resume_session)


class SpeedView(_ControlView):
    @extend_schema(summary="Change a running session's speed", request=SpeedSerializer,
                   responses={200: SessionRowSerializer, **errors(400, 401, 404, 409)})
    def post(self, request, session_id):
        serializer = SpeedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.control(request, session_id, actions.set_speed, serializer.validated_data["speed_multiplier"])


class SessionListView(OwnedObjectsMixin, generics.ListAPIView):
    """The caller's sessions, newest first; ``?status=running`` and ``?date=2024-10-29`` filter, and staff
    list another user's with ``?owner=<user_id>`` (as for strategies and broker connections)."""

    model = SimulationSession
    noun = "sessions"
    serializer_class = SessionRowSerializer

    @extend_schema(parameters=[SessionFilterSerializer, OWNER_PARAMETER],
                   responses={200: SessionRowSerializer(many=True), **errors(400, 401, 403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "summaries": snapshots.live_summaries(page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    def get_queryset(self):
        filters = SessionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        qs = self.list_queryset()
        if "status" in filters.validated_data:
            qs = qs.filter(status=filters.validated_data["status"])
        if "date" in filters.validated_data:
            day = filters.validated_data["date"]
            qs = qs.filter(start_date__lte=day, end_date__gte=day)
        return qs.order_by("-created_at")


class TradeListView(generics.ListAPIView):
    """A session's trades in the order they closed; ``?export=csv`` downloads them all as CSV."""

    serializer_class = TradeSerializer

    def get_queryset(self):
        self.session = session_for(self.request, self.kwargs["session_id"])
        return self.session.trades.order_by("seq")

    def get_serializer_context(self):
        # its money has the places of the session's instrument, its times its market's clock (TradeSerializer)
        if not hasattr(self, "session"):
            return super().get_serializer_context()
        return {**super().get_serializer_context(), "places": self.session.price_decimals,
                "zone": self.session.calendar.time_zone}

    @extend_schema(parameters=[OpenApiParameter("export", str, enum=["csv"], description="download all as CSV")],
                   responses={(200, "application/json"): TradeSerializer(many=True),
                              (200, "text/csv"): OpenApiTypes.STR, **errors(401, 404)})
    def get(self, request, *args, **kwargs):
        if request.query_params.get("export") == "csv":
            return self.csv(self.get_queryset())
        return super().get(request, *args, **kwargs)

    def csv(self, trades):
        """The trades as CSV: a column per field of the trade dict, each value as the JSON answer gives it
        (flow ids separated by spaces)."""
        session_id = self.kwargs["session_id"]

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def rows():
            yield writer.writerow(TRADE_FIELDS)
            places, zone = self.session.price_decimals, self.session.calendar.time_zone
            for trade in trades.iterator():
                row = trade.record(places, zone).to_dict()
                yield writer.writerow(" ".join(row[f]) if isinstance(row[f], list) else row[f] for f in TRADE_FIELDS)

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{session_id}-trades.csv"'
        return response


class CandlesView(APIView):
    @extend_schema(
        summary="The underlying's candles of a session, up to its current exchange time",
        description="Every day of the session in order, from the market data it replayed; a running "
                    "session's stop at its progress (the last candle may still be forming). 409 when a "
                    "day's market data is no longer stored on the server.",
        parameters=[CandleQuerySerializer],
        responses={200: CandlesSerializer, **errors(400, 401, 404, 409)},
        examples=[OpenApiExample("15-minute candles of a running session", response_only=True, value={
            "session_id": "sim-99bd83d617bf", "symbol": "NIFTY", "timeframe": "15m", "ticks_processed": 1511,
            "up_to": "2024-10-29T09:40:10+05:30", "candles": [
                {"time": 1730173500, "timestamp": "2024-10-29T09:15:00+05:30", "open": 24476.65,
                 "high": 24528.65, "low": 24425.95, "close": 24466.85, "volume": 413150},
                {"time": 1730174400, "timestamp": "2024-10-29T09:30:00+05:30", "open": 24466.5,
                 "high": 24487.15, "low": 24450.75, "close": 24467.35, "volume": 129575}]})],
    )
    def get(self, request, session_id):
        session = chart_session(request, session_id)
        query = CandleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            return Response(charts.candles(session, query.validated_data["timeframe"]))
        except MarketDataMissing as exc:
            raise Conflict(f"the market data this session replayed is no longer stored: {exc}") from exc


class EquityView(APIView):
    @extend_schema(
        summary="A session's P&L curve: its net P&L at every exchange minute's close and at its end",
        description="What is persisted so far (a running session writes its samples with its batches, "
                    "within seconds); the last sample of an ended session is its final net P&L.",
        responses={200: EquityCurveSerializer, **errors(401, 404)},
        examples=[OpenApiExample("The last samples of a session stopped at 09:42:20", response_only=True, value={
            "session_id": "sim-99bd83d617bf", "samples": [
                {"time": 1730175120, "timestamp": "2024-10-29T09:42:00+05:30", "net_pnl": "117.06",
                 "realized_pnl": "-644.19", "unrealized_pnl": "761.25", "charges": "105.44"},
                {"time": 1730175141, "timestamp": "2024-10-29T09:42:21+05:30", "net_pnl": "43.09",
                 "realized_pnl": "43.09", "unrealized_pnl": "0.00", "charges": "154.41"}]})],
    )
    def get(self, request, session_id):
        return Response(charts.equity(chart_session(request, session_id)))
