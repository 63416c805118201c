"""One ownership rule for the REST API and the stream: alice reads her own, bob (another user) nothing of
hers, charlie (staff) everyone's, including a deactivated user's, whose sessions may still need seeing
and stopping."""

from datetime import date

import pytest

from live_trading.stream.channels import StreamChannelManager, session_channel, user_channel
from sessions_app import lifecycle
from sessions_app.models import SimulationSession
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

GRAPH = {"format_version": 1, "name": "x", "nodes": [], "edges": []}


@pytest.fixture
def alices_session(alice):
    return SimulationSession.objects.create(
        owner=alice, strategy_name="x", strategy_version=1, graph=GRAPH, start_date=date(2024, 10, 29),
        end_date=date(2024, 10, 29), underlying="NIFTY", status=lifecycle.COMPLETED,
    )


def what_each_part_lets(viewer, owner, session) -> dict:
    """What ``viewer`` may read of ``owner`` and their ``session``, as the REST API and the stream answer."""
    api = client_for(viewer)
    stream = StreamChannelManager()
    return {
        "rest user": api.get(f"/api/live-trading/dashboard/{owner.user_id}").status_code,
        "rest session": api.get(f"/api/live-trading/session/{session.id}").status_code,
        "stream user": stream.can_read_channel(viewer, user_channel(owner.user_id)),
        "stream session": stream.can_read_channel(viewer, session_channel(session.id)),
    }


ALLOWED = {"rest user": 200, "rest session": 200, "stream user": True, "stream session": True}
HIDDEN = {"rest user": 404, "rest session": 404, "stream user": False, "stream session": False}


def test_the_owner_and_staff_read_a_users_data_and_another_user_does_not(alice, bob, charlie, alices_session):
    assert what_each_part_lets(alice, alice, alices_session) == ALLOWED
    assert what_each_part_lets(bob, alice, alices_session) == HIDDEN
    assert what_each_part_lets(charlie, alice, alices_session) == ALLOWED


def test_staff_still_read_a_deactivated_users_data(alice, bob, charlie, alices_session):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert what_each_part_lets(charlie, alice, alices_session) == ALLOWED
    assert what_each_part_lets(bob, alice, alices_session) == HIDDEN


def test_a_deactivated_reader_reads_nothing_not_even_their_own(alice, charlie, alices_session):
    charlie.is_active = False
    charlie.save(update_fields=["is_active"])
    stream = StreamChannelManager()

    assert stream.can_read_channel(charlie, user_channel(alice.user_id)) is False
    assert stream.can_read_channel(charlie, session_channel(alices_session.id)) is False
    assert client_for(charlie).get(f"/api/live-trading/dashboard/{charlie.user_id}").status_code == 401
