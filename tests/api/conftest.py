"""Fixtures of the api tier: the OpenAPI document, and a check that a response is what it declares."""

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


@pytest.fixture(scope="session")
def openapi():
    from django.test import Client

    return Client().get("/api/openapi.json").json()


@pytest.fixture
def conforms(openapi):
    """conforms(response, path, method): assert the response body matches what the OpenAPI document declares
    for that route and status, and return it."""
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(openapi, DRAFT202012))

    def check(response, path, method):
        pointer = "/".join(["#/paths", path.replace("/", "~1"), method, "responses", str(response.status_code),
                            "content", "application~1json", "schema"])
        jsonschema.Draft202012Validator({"$ref": "urn:openapi" + pointer}, registry=registry).validate(response.json())
        return response.json()

    return check
