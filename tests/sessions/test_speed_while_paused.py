"""A speed change never pauses or resumes a session (docs/protocol.md, "Pause, resume, speed")."""

import pytest

from sessions_app.models import SimulationSession
from tests.sessions.conftest import start_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_paused_session_stays_paused_at_its_new_speed_until_resumed(as_alice, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1),
                               format="json").json()["session_id"]
    assert as_alice.post(f"/api/v2/live/pause/{session_id}").json()["status"] == "paused"

    faster = as_alice.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 2}, format="json")

    assert faster.status_code == 200
    assert (faster.json()["status"], faster.json()["speed_multiplier"]) == ("paused", 2)
    row = SimulationSession.objects.get(pk=session_id)
    assert (row.status, row.speed_multiplier) == ("paused", 2.0)
    resumed = as_alice.post(f"/api/v2/live/resume/{session_id}")
    assert (resumed.json()["status"], resumed.json()["speed_multiplier"]) == ("running", 2)
