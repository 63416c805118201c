"""GET /api/market-days/: the stored days, the same read-only list for every signed-in user."""

import pytest

from live_trading.marketdata.store import imported_path, synthetic_path
from tests.marketdata.test_cache import T1, T2, TUE, WED, put

pytestmark = pytest.mark.django_db

URL = "/api/market-days/"


@pytest.fixture
def days(settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path
    imported = put(imported_path("NIFTY", TUE, tmp_path), TUE, T2, source="imported")
    hidden = put(synthetic_path("NIFTY", TUE, 0, tmp_path), TUE, T1)
    other = put(synthetic_path("NIFTY", WED, 0, tmp_path), WED, T1)
    # T1 = 1_730_000_000 s = 2024-10-27 03:33:20 UTC; T2 is 100 s later; shown in exchange time.
    return [
        {"underlying": "NIFTY", "date": "2024-10-29", "source": "imported", "seed": None,
         "size_bytes": imported.stat().st_size, "last_used": "2024-10-27T09:05:00+05:30", "shadowed": False},
        {"underlying": "NIFTY", "date": "2024-10-29", "source": "synthetic", "seed": 0,
         "size_bytes": hidden.stat().st_size, "last_used": "2024-10-27T09:03:20+05:30", "shadowed": True},
        {"underlying": "NIFTY", "date": "2024-10-30", "source": "synthetic", "seed": 0,
         "size_bytes": other.stat().st_size, "last_used": "2024-10-27T09:03:20+05:30", "shadowed": False},
    ]


@pytest.mark.parametrize("who", ["as_alice", "as_bob", "as_charlie"])
def test_every_signed_in_user_reads_the_same_list_of_days(request, who, days):
    response = request.getfixturevalue(who).get(URL)

    assert response.status_code == 200
    assert response.json() == {"count": 3, "next": None, "previous": None, "results": days}


def test_an_empty_folder_lists_nothing(as_alice, settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path / "nothing-here"

    assert as_alice.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_without_credentials_it_is_a_401(anonymous, days):
    assert anonymous.get(URL).status_code == 401


@pytest.mark.parametrize("who", ["as_alice", "as_bob", "as_charlie"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_is_read_only_even_for_staff(request, who, method, days, settings):
    response = getattr(request.getfixturevalue(who), method)(URL, {}, format="json")

    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert imported_path("NIFTY", TUE, settings.MARKET_DATA_DIR).exists()


def test_the_schema_documents_the_endpoint_as_get_only(as_alice):
    schema = as_alice.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert set(schema["paths"][URL]) == {"get"}
    row = schema["components"]["schemas"]["MarketDay"]
    assert sorted(row["properties"]) == ["date", "last_used", "seed", "shadowed", "size_bytes", "source", "underlying"]
