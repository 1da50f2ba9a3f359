"""schemathesis against the live server: thousands of requests generated from the OpenAPI document, and
not one answered with a server error."""

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings

from accounts.models import ApiToken
from config.api import api

pytestmark = pytest.mark.django_db(transaction=True)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema()).exclude(
    # Revoking would end the fuzzing user's own token early; it is covered in tests/test_tokens.py.
    method="DELETE", path="/api/tokens/{token_id}")
EXAMPLES_PER_OPERATION = 150
sent = []


@pytest.fixture(scope="module")
def token(server, django_db_blocker):
    with django_db_blocker.unblock():
        return ApiToken.issue(User.objects.create_user("fuzzer"), "schemathesis")[1]


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, server, token):
    response = case.call(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    sent.append(response.status_code)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: " \
                                       f"{response.text[:500]}"


def test_the_fuzzing_sent_at_least_5000_requests():
    assert len(sent) >= 5000, f"only {len(sent)} requests"
