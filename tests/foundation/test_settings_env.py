import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_redis_url, secret_key


@pytest.mark.parametrize("raw, expected", [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)])
def test_env_bool_reads_the_usual_spellings(raw, expected):
    assert env_bool("DEBUG", not expected, environ={"DEBUG": raw}) is expected


def test_env_bool_uses_the_default_when_unset():
    assert env_bool("DEBUG", True, environ={}) is True


def test_env_bool_refuses_anything_else_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", True, environ={"DEBUG": "maybe"})


def test_env_int_refuses_non_integers_and_out_of_range_values():
    with pytest.raises(ImproperlyConfigured, match="PORT='80a' is not an integer"):
        env_int("PORT", 8000, environ={"PORT": "80a"})
    with pytest.raises(ImproperlyConfigured, match="PORT=70000 is above the maximum 65535"):
        env_int("PORT", 8000, maximum=65535, environ={"PORT": "70000"})
    with pytest.raises(ImproperlyConfigured, match="PORT=0 is below the minimum 1"):
        env_int("PORT", 8000, minimum=1, environ={"PORT": "0"})
    for other in ("５", "1_000", "٣", "+5", "- 5"):
        with pytest.raises(ImproperlyConfigured, match="is not an integer"):
            env_int("SIM_WRITE_ATTEMPTS", 10, minimum=1, environ={"SIM_WRITE_ATTEMPTS": other})
    assert env_int("OFFSET", 0, environ={"OFFSET": "-5"}) == -5
    assert env_int("PORT", 8000, minimum=1, environ={"PORT": " 9000 "}) == 9000


def test_env_list_splits_on_commas_and_refuses_empty_items():
    assert env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS='a,,b' has an empty item"):
        env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a,,b"})


def test_database_url_becomes_a_django_database_entry():
    db = database_from_url("postgresql://trader:p%40ss@db.internal:6543/livesim?sslmode=require")
    assert db == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "livesim",
        "USER": "trader",
        "PASSWORD": "p@ss",
        "HOST": "db.internal",
        "PORT": "6543",
        "OPTIONS": {"sslmode": "require"},
    }


def test_database_url_accepts_a_socket_directory_as_host_option():
    db = database_from_url("postgres:///livesim?host=/var/run/postgresql")
    assert db["HOST"] == "/var/run/postgresql"
    assert db["OPTIONS"] == {}


@pytest.mark.parametrize(
    "url, message",
    [
        ("sqlite:///db.sqlite3", "must start with postgres:// or postgresql://"),
        ("postgres://localhost:5432", "has no database name"),
        ("postgres://localhost:port/x", "port that is not a number"),
    ],
)
def test_database_url_refuses_what_it_cannot_use(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url)


@pytest.mark.parametrize("debug", [True, False])
def test_secret_key_is_generated_once_and_reused_whatever_debug_says(tmp_path, debug):
    key_file = tmp_path / "var" / "secret_key"
    first = secret_key(debug, key_file, environ={})

    assert len(first) >= 50
    assert secret_key(debug, key_file, environ={}) == first
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no draft left behind


def test_a_secret_key_from_the_environment_wins_and_must_be_long_when_debug_is_off(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="shorter than 32"):
        secret_key(False, tmp_path / "secret_key", environ={"SECRET_KEY": "short"})
    assert secret_key(False, tmp_path / "k", environ={"SECRET_KEY": "x" * 40}) == "x" * 40
    assert secret_key(True, tmp_path / "k", environ={"SECRET_KEY": "short"}) == "short"
    assert not (tmp_path / "k").exists()


def test_a_truncated_key_file_is_refused_naming_the_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("abc\n")

    with pytest.raises(ImproperlyConfigured, match=f"{key_file} holds a key shorter than 32"):
        secret_key(False, key_file, environ={})


@pytest.mark.parametrize(
    "raw, message",
    [
        ("localhost:6379", "must start with redis://, rediss:// or unix://"),
        ("redis://127.0.0.1:port/0", "has a port that is not a number"),
        ("redis:///0", "has no host"),
        ("redis://127.0.0.1:6379/cache", "the database after the host must be a number"),
    ],
)
def test_redis_url_refuses_what_redis_could_not_use(raw, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        env_redis_url(environ={"REDIS_URL": raw})


def test_redis_url_is_optional_and_passes_good_values_through():
    assert env_redis_url(environ={}) is None
    assert env_redis_url(environ={"REDIS_URL": "redis://:secret@10.0.0.5:6380/2"}) == "redis://:secret@10.0.0.5:6380/2"
    assert env_redis_url(environ={"REDIS_URL": "unix:///run/redis.sock"}) == "unix:///run/redis.sock"
