"""A session's export files in the seeds' formats (docs/reports.md, "Exports"): the list per trading day,
and each file to download. Owner and staff read; another user's session is a 404."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import PlainFormsMixin, errors
from live_trading.api.sessions import session_for
from live_trading.reports.exports import MANIFEST, NAMES, encode
from live_trading.reports.sessions import export_index, session_exports, session_manifest

CONTENT_TYPES = {".gz": "application/gzip", ".json": "application/json"}


class ExportDateSerializer(PlainFormsMixin, serializers.Serializer):
    date = serializers.DateField(required=False, help_text="the trading day (YYYY-MM-DD); required when the "
                                                           "session spans several days")


EXPORT_LIST = inline_serializer("SessionExports", {
    "session_id": serializers.CharField(),
    "manifest": inline_serializer("SessionExportManifest", {
        "name": serializers.ChoiceField(choices=[MANIFEST]), "url": serializers.CharField(),
    }),
    "days": inline_serializer("SessionExportDay", {
        "date": serializers.DateField(),
        "files": inline_serializer("SessionExportFile", {
            "name": serializers.ChoiceField(choices=NAMES), "url": serializers.CharField(),
        }, many=True),
    }, many=True),
})


class ExportListView(APIView):
    @extend_schema(
        operation_id="sessions_exports_list",
        summary="A session's export files in the seeds' formats, per trading day",
        description="`diagnostics_export.json.gz`, `trades_daily.json.gz` and `positions.json` for each "
                    "trading day of the session, and the session's manifest `session.json` (docs/reports.md, "
                    "\"Exports\" and \"Sharing a run\"). A running session's are "
                    "as of its last committed batch. Another user's session is a 404.",
        responses={200: EXPORT_LIST, **errors(401, 404)},
    )
    def get(self, request, session_id):
        return Response(export_index(session_for(request, session_id)))


# positions.json: the day's positions, each the ``position`` of a ``position_event`` (docs/protocol.md);
# session.json: the manifest, an object (docs/reports.md, "Sharing a run").
POSITIONS_SCHEMA = {"oneOf": [{"type": "array", "items": {"type": "object", "additionalProperties": True}},
                              {"type": "object", "additionalProperties": True}]}


class ExportFileView(APIView):
    @extend_schema(
        operation_id="sessions_exports_file",
        summary="Download one export file of a session's trading day",
        description="`diagnostics_export.json.gz` (`events_history`, `current_state`) and "
                    "`trades_daily.json.gz` (`date`, `summary`, `trades`) are gzip-compressed JSON (the "
                    "structures seed 004 shows decompressed); `positions.json` is a JSON list of the "
                    "day's positions; `session.json` is the session's manifest (one per session, no "
                    "`date`). `date` may be left out for a one-day session. Another user's "
                    "session, or an unknown file name, is a 404.",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=[*NAMES, MANIFEST]),
                    OpenApiParameter("date", OpenApiTypes.DATE, description="the trading day; required when "
                                     "the session spans several days")],
        responses={(200, "application/gzip"): OpenApiTypes.BINARY, (200, "application/json"): POSITIONS_SCHEMA,
                   **errors(400, 401, 404)},
    )
    def get(self, request, session_id, name):
        session = session_for(request, session_id)
        if name == MANIFEST:
            return _attachment(f"{session.id}-{name}", encode(name, session_manifest(session)), name)
        if name not in NAMES:
            raise Http404("no such export file")
        query = ExportDateSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = [d.isoformat() for d in session.calendar.trading_days(session.start_date, session.end_date)]
        day = query.validated_data.get("date")
        if day is None:
            if len(days) != 1:
                raise serializers.ValidationError({"date": [f"required: the session spans {len(days)} trading days"]})
            key = days[0]
        else:
            key = day.isoformat()
            if key not in days:
                raise serializers.ValidationError({"date": [f"{key} is not one of the session's trading days"]})
        return _attachment(f"{session.id}-{key}-{name}", encode(name, session_exports(session)[key][name]), name)


def _attachment(filename: str, data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[name[name.rfind("."):]])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
