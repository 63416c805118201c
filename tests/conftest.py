"""Shared fixtures: three users in every module that needs them (an owner, another user, staff)."""

import pytest


@pytest.fixture
def alice(django_user_model):
    """The owner in most tests."""
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model):
    """Another user, who must never see alice's things."""
    return django_user_model.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def charlie(django_user_model):
    """Staff."""
    return django_user_model.objects.create_user("charlie", password="charlie-password-1", is_staff=True,
                                                 is_superuser=True)
