"""schemathesis drives every JSON API operation from the OpenAPI schema: no input makes the server fail."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from policywatch.settings import get_settings
from web.app import create_app

EXAMPLES = 25


def test_no_input_makes_the_api_fail(site_engine):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(get_settings(), site_engine))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def no_server_error(case):
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
