"""Races between requests on one session, on the real thread and the real Postgres: the loser gets a
4xx that says what happened, never a 500 and never a 200 for something that did not happen."""

import threading

import pytest
from django.db import connection, transaction

from accounts.models import User
from live_trading.runner.registry import registry
from live_trading.runner.thread import Control
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.conftest import client_for
from tests.sessions.conftest import Background, start_body
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]




def blocked_on_a_row_lock(statement_start: str) -> bool:
    """Whether another connection waits for a row lock in a statement starting with ``statement_start``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            [statement_start + "%"],
        )
        return cursor.fetchone()[0] > 0


def start_held_at_the_user_row(user, client, strategy, broker):
    """Start a session on a thread and hold it where it waits for the user row (after it validated and
    prepared its engine, before it writes). Returns (starter, release): call ``release()`` to let it go
    on, then ``starter.outcome()`` for its response."""
    held, go = threading.Event(), threading.Event()

    def hold_user_row():
        with transaction.atomic():
            User.objects.select_for_update().get(pk=user.pk)
            held.set()
            go.wait(60)

    holder = Background(hold_user_row)
    holder.start()
    assert held.wait(30)
    starter = Background(lambda: client.post("/api/v2/live/start", start_body(strategy, broker), format="json"))
    starter.start()
    wait_for(lambda: blocked_on_a_row_lock('SELECT "accounts_user"'), message="the start to wait for the user row")

    def release():
        go.set()
        holder.outcome()

    return starter, release


@pytest.mark.parametrize("dependency, path, field, noun", [
    ("strategy", "/api/strategies/{}/", "strategy_id", "strategy"),
    ("broker", "/api/broker-connections/{}/", "broker_connection_id", "broker connection"),
])
def test_deleting_what_a_preparing_start_uses_refuses_the_start_naming_it(alice, alice_setup, dependency, path,
                                                                         field, noun):
    strategy, broker = alice_setup
    target = strategy if dependency == "strategy" else broker
    # The start validates, prepares its engine, then locks the user row to check the session limit. Holding
    # that lock here keeps it between "validated" and "written" while the delete happens.
    client = client_for(alice)  # before the lock: a new token row would wait for the user row too
    starter, release = start_held_at_the_user_row(alice, client, strategy, broker)

    deleted = client.delete(path.format(target.pk))
    release()
    response = starter.outcome()

    assert deleted.status_code == 204
    assert response.status_code == 400, response.content
    assert response.json() == {field: [f"no such {noun} of yours (it was deleted while the session was starting)"]}
    assert SimulationSession.objects.count() == 0


def test_a_start_that_locked_first_makes_the_delete_of_its_broker_connection_wait_and_refuse(alice, alice_setup):
    strategy, broker = alice_setup
    client = client_for(alice)  # before the lock: a new token row would wait for the user row too
    starter, release = start_held_at_the_user_row(alice, client, strategy, broker)
    release()
    response = starter.outcome()
    session_id = response.json()["session_id"]

    deleted = client.delete(f"/api/broker-connections/{broker.pk}/")

    assert response.status_code == 201
    assert deleted.status_code == 409
    assert deleted.json() == {"detail": "This broker connection is used by 1 session(s) that have not ended "
                                        f"({session_id}); stop them before deleting it."}


def test_a_start_that_locked_first_makes_the_delete_of_its_strategy_wait_and_refuse(alice, alice_setup):
    strategy, broker = alice_setup
    client = client_for(alice)  # before the lock: a new token row would wait for the user row too
    starter, release = start_held_at_the_user_row(alice, client, strategy, broker)
    release()
    response = starter.outcome()
    session_id = response.json()["session_id"]  # at 1x: it is still running when the delete comes

    deleted = client.delete(f"/api/strategies/{strategy.pk}/")

    assert response.status_code == 201
    assert deleted.status_code == 409
    assert deleted.json()["detail"].startswith(f"This strategy is used by session {session_id} (trading date ")
    assert Strategy.objects.filter(pk=strategy.pk).exists()


def running_session(client, strategy, broker):
    response = client.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1), format="json")
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "running", message="running")
    return session_id


@pytest.mark.parametrize("action, body", [("speed", {"speed_multiplier": 4}), ("pause", None)])
def test_a_control_that_loses_to_a_stop_is_a_conflict_with_the_status(as_alice, alice_setup, action, body):
    session_id = running_session(as_alice, *alice_setup)
    # The stop is queued to the thread first, so the control message behind it is never obeyed: the thread
    # ends on the stop. Whether the view sees the stop before sending or after, the answer is the same.
    registry.send(session_id, Control("stop", "stopped by the test"))

    response = as_alice.post(f"/api/v2/live/{action}/{session_id}", body, format="json")

    assert response.status_code == 409, response.content
    assert response.json() == {"detail": "the session is stopped", "status": "stopped"}
    assert SimulationSession.objects.get(pk=session_id).speed_multiplier == 1.0


def test_a_resume_that_loses_to_a_stop_is_a_conflict_with_the_status(as_alice, alice_setup):
    session_id = running_session(as_alice, *alice_setup)
    assert as_alice.post(f"/api/v2/live/pause/{session_id}").json()["status"] == "paused"
    registry.send(session_id, Control("stop", "stopped by the test"))

    response = as_alice.post(f"/api/v2/live/resume/{session_id}")

    assert response.status_code == 409, response.content
    assert response.json() == {"detail": "the session is stopped", "status": "stopped"}


def test_a_speed_change_that_wins_is_applied(as_alice, alice_setup):
    session_id = running_session(as_alice, *alice_setup)

    response = as_alice.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 4}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["speed_multiplier"]) == ("running", 4.0)
