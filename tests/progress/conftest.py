"""Fixtures for the competition-progress tests (on top of tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.conftest import Harness

MEMBERS = ("alice", "bob", "carol")  # joined in this order; "admin" is a non-member admin


@pytest.fixture
def study(harness: Harness) -> Harness:
    """Three members and a group-granted admin who is no member (Monday 2026-12-07 08:00)."""
    harness.join(*MEMBERS)
    harness.grant_admin("admin")
    return harness
