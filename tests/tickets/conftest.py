"""Fixtures of the service-request tests."""

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Attachments are written to a per-test folder, never into var/.
    settings.MEDIA_ROOT = tmp_path / "media"
