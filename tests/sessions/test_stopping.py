"""Stopping sessions: a second stop says the session was already stopped; the emergency stop-all (API
and admin) needs the sessions_app.stop_all_sessions permission, not only staff status, and every
stop-all leaves a read-only audit record."""

import pytest
from django.contrib.auth.models import Permission

from sessions_app.models import EmergencyStop, SimulationSession
from tests.conftest import client_for, create_user
from tests.sessions.conftest import setup_for, start_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STOP_ALL = "/api/v2/live/stop/all"
ADMIN_STOP_ALL = "/admin/sessions_app/simulationsession/stop-all/"
CHANGELIST = "/admin/sessions_app/simulationsession/"


def permission(codename):
    return Permission.objects.get(codename=codename)


@pytest.fixture
def dave(django_user_model):
    """Staff who may look at sessions in the admin, but holds no stop-all permission."""
    user = create_user(django_user_model, "dave", "dave-password-1", is_staff=True)
    user.user_permissions.add(permission("view_simulationsession"))
    return user


@pytest.fixture
def erin(django_user_model):
    """Staff given the stop-all permission (and the audit trail's view permission), not a superuser."""
    user = create_user(django_user_model, "erin", "erin-password-1", is_staff=True)
    user.user_permissions.add(permission("view_simulationsession"), permission("stop_all_sessions"),
                              permission("view_emergencystop"))
    return user


@pytest.fixture
def running(alice, bob):
    """Two sessions of alice's and one of bob's, running at real time (they outlast the test)."""
    ids = {}
    for user, count in ((alice, 2), (bob, 1)):
        strategy, broker = setup_for(user)
        client = client_for(user)
        ids[user.username] = [
            client.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1), format="json").json()["session_id"]
            for _ in range(count)
        ]
    return ids


def statuses(ids):
    return dict(SimulationSession.objects.filter(pk__in=ids).values_list("id", "status"))


def test_stopping_a_stopped_session_says_it_was_already_stopped(running, alice, bob):
    session_id = running["alice"][0]
    as_alice, as_bob = client_for(alice), client_for(bob)

    first = as_alice.post(f"/api/v2/live/stop/{session_id}")
    again = as_alice.post(f"/api/v2/live/stop/{session_id}")

    assert (first.status_code, again.status_code) == (200, 200)
    said = ("session_id", "status", "message")  # the live totals that come with them: tests/sessions/test_live_totals.py
    assert {k: first.json()[k] for k in said} == {"session_id": session_id, "status": "stopped",
                                                  "message": "Session stopped successfully"}
    assert {k: again.json()[k] for k in said} == {"session_id": session_id, "status": "stopped",
                                                  "message": "Session already stopped"}
    assert again.json()["total_trades"] == first.json()["total_trades"]
    assert as_bob.post(f"/api/v2/live/stop/{session_id}").status_code == 404
    assert SimulationSession.objects.get(pk=session_id).status_reason == "stopped by alice"


def test_only_staff_with_the_permission_may_stop_all_through_the_api(running, alice, bob, charlie, dave, erin):
    every_id = running["alice"] + running["bob"]
    refused = [client_for(user).post(STOP_ALL) for user in (alice, bob, dave)]

    assert [r.status_code for r in refused] == [403, 403, 403]
    assert refused[2].json() == {
        "detail": "stopping every session needs staff status and the sessions_app.stop_all_sessions permission"}
    assert set(statuses(every_id).values()) == {"running"}
    assert not EmergencyStop.objects.exists()

    done = client_for(erin).post(STOP_ALL)

    assert done.status_code == 200
    body = done.json()
    assert body["sessions_stopped"] == 3 and body["users_affected"] == 2 and body["stopped_by"] == "erin"
    assert sorted(s["session_id"] for s in body["stopped_sessions"]) == sorted(every_id)
    assert statuses(every_id) == dict.fromkeys(every_id, "stopped")
    record = EmergencyStop.objects.get()
    assert body["audit_id"] == record.pk
    assert (record.stopped_by, record.stopped_by_username, record.via) == (erin, "erin", "api")
    assert (record.sessions_stopped, record.users_affected) == (3, 2)
    assert sorted(record.session_ids) == sorted(every_id)
    assert sorted(record.user_ids) == sorted([alice.user_id, bob.user_id])


def test_a_superuser_has_the_permission_and_a_stop_with_nothing_running_is_recorded_too(charlie):
    done = client_for(charlie).post(STOP_ALL)

    assert done.status_code == 200
    assert (done.json()["sessions_stopped"], done.json()["stopped_sessions"]) == (0, [])
    record = EmergencyStop.objects.get()
    assert (record.stopped_by_username, record.sessions_stopped, record.users_affected, record.session_ids,
            record.user_ids) == ("charlie", 0, 0, [], [])


def test_staff_without_the_permission_cannot_stop_all_from_the_admin(client, running, dave):
    every_id = running["alice"] + running["bob"]
    client.force_login(dave)

    changelist = client.get(CHANGELIST)
    confirm = client.get(ADMIN_STOP_ALL)
    stop = client.post(ADMIN_STOP_ALL)
    action = client.post(CHANGELIST, {"action": "stop_selected", "_selected_action": every_id})

    assert changelist.status_code == 200
    assert b"Emergency stop all" not in changelist.content
    assert b"stop_selected" not in changelist.content, "stopping is a change; dave may only view"
    assert (confirm.status_code, stop.status_code) == (403, 403)
    assert action.status_code in (200, 302)
    assert set(statuses(every_id).values()) == {"running"}
    assert not EmergencyStop.objects.exists()


def test_staff_with_the_permission_stops_all_from_the_admin_and_it_is_recorded(client, running, alice, bob, erin):
    every_id = running["alice"] + running["bob"]
    client.force_login(erin)

    changelist = client.get(CHANGELIST)
    confirm = client.get(ADMIN_STOP_ALL)
    done = client.post(ADMIN_STOP_ALL)

    assert b"Emergency stop all" in changelist.content
    assert b"stops <strong>3</strong> active session(s) of <strong>2</strong> user(s)" in confirm.content
    assert done.status_code == 302
    assert statuses(every_id) == dict.fromkeys(every_id, "stopped")
    record = EmergencyStop.objects.get()
    assert (record.stopped_by, record.via, record.sessions_stopped, record.users_affected) == (erin, "admin", 3, 2)
    assert sorted(record.session_ids) == sorted(every_id)
    assert sorted(record.user_ids) == sorted([alice.user_id, bob.user_id])


def test_the_audit_records_are_read_only_in_the_admin(client, charlie, erin):
    client_for(charlie).post(STOP_ALL)
    record = EmergencyStop.objects.get()
    url = f"/admin/sessions_app/emergencystop/{record.pk}/change/"

    for user in (erin, charlie):  # the view permission; a superuser holds every permission there is
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content and b"charlie" in page.content
        assert client.post(url, {"stopped_by_username": "someone else"}).status_code == 403
        assert client.get("/admin/sessions_app/emergencystop/add/").status_code == 403
        assert client.post(f"/admin/sessions_app/emergencystop/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert EmergencyStop.objects.get().stopped_by_username == "charlie"


@pytest.fixture
def olga(django_user_model):
    """An operator: staff holding only the stop-all permission, no model permission."""
    user = create_user(django_user_model, "olga", "olga-password-1", is_staff=True)
    user.user_permissions.add(permission("stop_all_sessions"))
    return user


def test_an_operator_with_only_the_stop_all_permission_reaches_the_button_and_sees_the_result(client, running,
                                                                                              olga):
    client.force_login(olga)

    changelist = client.get(CHANGELIST)
    done = client.post(ADMIN_STOP_ALL, follow=True)

    assert changelist.status_code == 200 and b"Emergency stop all" in changelist.content
    assert b"stop_selected" not in changelist.content  # seeing is not changing
    assert done.status_code == 200, "the stop leads to a page the operator may open"
    assert b"Emergency stop: 3 session(s) of 2 user(s) stopped" in done.content
    assert client.get("/admin/sessions_app/emergencystop/").status_code == 200  # the trail of what they did


def test_staff_control_another_users_sessions_only_with_the_change_permission(running, alice, dave, charlie):
    """dave (staff, view permission) may read alice's session but not stop, pause or re-pace it, one by
    one or all of hers; charlie (superuser) may."""
    session_id = running["alice"][0]
    as_dave = client_for(dave)

    assert as_dave.get(f"/api/live-trading/session/{session_id}").status_code == 200
    refused = [as_dave.post(f"/api/v2/live/{action}/{session_id}") for action in ("pause", "resume", "stop")]
    refused.append(as_dave.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 10}, format="json"))
    refused.append(as_dave.post(f"/api/v2/live/stop/user/{alice.user_id}"))

    assert [r.status_code for r in refused] == [403] * 5
    assert refused[0].json() == {
        "detail": "controlling another user's sessions needs the sessions_app.change_simulationsession permission"}
    assert set(statuses(running["alice"]).values()) == {"running"}
    assert client_for(charlie).post(f"/api/v2/live/pause/{session_id}").json()["status"] == "paused"


@pytest.mark.parametrize("body, expected", [
    ({"bogus": 1}, {"bogus": ["Unknown field."]}),
    ([1, 2], {"non_field_errors": ["This endpoint takes no body."]}),
])
def test_an_endpoint_that_takes_no_body_refuses_one_and_does_nothing(running, alice, charlie, body, expected):
    session_id = running["alice"][0]
    calls = [(client_for(alice), f"/api/v2/live/pause/{session_id}"), (client_for(alice), f"/api/v2/live/stop/{session_id}"),
             (client_for(alice), f"/api/v2/live/stop/user/{alice.user_id}"), (client_for(charlie), STOP_ALL),
             (client_for(alice), "/api/live-trading/stream-token")]

    answers = [client.post(path, body, format="json") for client, path in calls]

    assert [(r.status_code, r.json()) for r in answers] == [(400, expected)] * len(calls)
    assert set(statuses(running["alice"]).values()) == {"running"}
    assert not EmergencyStop.objects.exists()
    assert client_for(alice).post(f"/api/v2/live/pause/{session_id}", {}, format="json").status_code == 200


def test_malformed_json_to_an_endpoint_that_takes_no_body_is_a_400(running, alice):
    r = client_for(alice).post(f"/api/v2/live/stop/{running['alice'][0]}", "{bad", content_type="application/json")

    assert r.status_code == 400 and "JSON parse error" in r.json()["detail"]
    assert set(statuses(running["alice"]).values()) == {"running"}
