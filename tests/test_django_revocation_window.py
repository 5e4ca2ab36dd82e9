"""Django: ``settings.JWTCOOKIE`` goes through the same window check as the middleware.

A revocation store that forgets an entry before the tokens it refuses have expired lets a
logged-out session's copied cookie back in (issue 18, finding 2). ``JWTCOOKIE`` builds
``jwtcookie.Settings``, so Django refuses such a store as a system check error, with the fix.
"""

from __future__ import annotations

import pytest
from django.core import checks

from jwtcookie.contrib.django.checks import check_configuration
from jwtcookie.contrib.django.config import Problem, configuration
from tests.django_project import SECRET, activate
from tests.harness import DAY
from tests.servers import free_port

redis = pytest.importorskip("redis", reason="pip install 'jwtcookie[redis]' for these tests")
from jwtcookie.redis import RedisRevocations  # noqa: E402  # needs redis-py


def test_django_refuses_a_revocation_store_that_forgets_before_its_tokens_expire() -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # never started: nothing is sent
    week_long, month_long = RedisRevocations(nowhere), RedisRevocations(nowhere, max_age=30 * DAY)
    month = {"secret": SECRET, "secure": False, "max_age": 30 * DAY}
    try:
        with activate(JWTCOOKIE={**month, "revocations": week_long}):
            with pytest.raises(Problem, match=r"keeps an entry .* max_age=2592000"):
                configuration()
            found = check_configuration()
            assert [(type(e), e.id) for e in found] == [(checks.Error, "jwtcookie.E004")]
            assert "RedisRevocations(..., max_age=2592000" in found[0].msg
        with activate(JWTCOOKIE={**month, "revocations": month_long}):
            assert configuration().settings.revocations is month_long
    finally:
        week_long.close()
        month_long.close()
