"""schemathesis against the live server: thousands of requests generated from the OpenAPI document, and
not one answered with a server error."""

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from accounts.models import ApiToken
from config.api import api

pytestmark = pytest.mark.django_db(transaction=True)

# The coverage phase writes every boundary case of a schema: about 7,000 requests for each operation whose body is
# a graph document (70 layer types, each with its parameters), 100 s apiece. Those three get the random phase only.
GRAPH_BODIES = ["/api/graphs/validate", "/api/graphs/export", "/api/datasets/{key}/fit"]
config = SchemathesisConfig.from_dict({"operations": [
    {"include-path": GRAPH_BODIES, "phases": {"coverage": {"enabled": False}}}]})
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=config).exclude(
    # Revoking would end the fuzzing user's own token early; it is covered in tests/api/test_tokens.py.
    method="DELETE", path="/api/tokens/{token_id}")
EXAMPLES_PER_OPERATION = 150
sent = []


@pytest.fixture
def token(server):
    # Per test: a transactional test empties the database after it, the fuzzing user and token included.
    return ApiToken.issue(User.objects.create_user("fuzzer"), "schemathesis")[1]


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, server, token):
    response = case.call(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    sent.append(response.status_code)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: " \
                                       f"{response.text[:500]}"


def test_the_fuzzing_sent_at_least_5000_requests_all_signed_in():
    assert len(sent) >= 5000, f"only {len(sent)} requests"
    assert sent.count(401) == 0, f"{sent.count(401)} of {len(sent)} requests were refused as not signed in"
