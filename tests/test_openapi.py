"""The OpenAPI document: valid OpenAPI 3.1, generated from the typed messages that
validate the requests (server/schemas.py), and the server answers as it says.

A short schemathesis pass sends generated requests to every operation of a live server:
no answer may be a server error, and every answer must conform to the document (status
codes, content types, schemas, `Allow` on 405)."""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from server.openapi import document
from tests.conftest import ADMIN_TOKEN, LiveServer

DOC = document()
schema = schemathesis.openapi.from_dict(DOC)


def test_the_document_is_valid_openapi() -> None:
    validate(DOC)
    # every request body schema is a typed model's (schemas.py), not a hand-written dict
    for item in DOC["paths"].values():
        for op in item.values():
            body = op.get("requestBody")
            if body:
                assert "$ref" in body["content"]["application/json"]["schema"]
            for parameter in op["parameters"]:
                assert parameter["in"] in ("path", "query", "header")


def conforms(answer: dict[str, Any], model: str) -> None:
    """An answer validates against a component schema of the document."""
    root = Resource.from_contents({"components": DOC["components"]}, DRAFT202012)
    registry = Registry().with_resource("urn:loket", root)
    validator = Draft202012Validator(
        {"$ref": f"urn:loket#/components/schemas/{model}"}, registry=registry
    )
    errors = sorted(validator.iter_errors(answer), key=str)
    assert not errors, errors[0]


async def test_answers_conform_to_their_schemas(server: LiveServer) -> None:
    site = server.new_site()
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    base = f"/api/v1/sites/{site}"
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as c:
        issued = await c.post(f"{base}/tickets", json={"service": "ktp-el"})
        conforms(issued.json(), "PositionAnswer")
        called = await c.post(f"{base}/counters/loket-1/next")
        conforms(called.json(), "TicketAnswer")
        paused = await c.post(f"{base}/counters/loket-2/pause")
        conforms(paused.json(), "CounterAnswer")
        done = await c.post(f"{base}/counters/loket-1/finish")
        ticket_id = done.json()["ticket"]["id"]
        rated = await c.post(f"{base}/tickets/{ticket_id}/rating", json={"score": 4})
        conforms(rated.json(), "TicketAnswer")
        for by in ("site", "service", "hour"):
            conforms((await c.get(f"{base}/reports", params={"by": by})).json(), "Report")
        conforms((await c.get("/api/v1/evaluation")).json(), "Evaluation")
        conforms((await c.get(f"{base}/config")).json(), "Config")
        conforms((await c.get("/api/v1/users")).json(), "Users")
        conforms((await c.get("/api/v1/tokens")).json(), "Tokens")
        conforms((await c.get("/api/v1/audit", params={"site": site})).json(), "Audit")
        refused = await c.post(f"{base}/tickets", json={"service": 7})
        assert refused.status_code == 400
        conforms(refused.json(), "Error")
        assert refused.json()["error"]["code"] == "invalid_field"
        assert "service" in refused.json()["error"]["message"]


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case: Any, server: LiveServer) -> None:
    # Types are in the document; the domain's own rules (a known service, a slug, a
    # score from 1 to 4) are not, so a well-typed request may still be refused.
    case.call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
