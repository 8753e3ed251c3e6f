"""Validation against the official specs in ../shared/specs: the contract with the real services.

- Xero (OpenAPI 3.0): whole requests and responses through openapi-core, with the sandbox URL
  rewritten to the real server the spec names.
- Amazon SP-API and Amazon Business (Swagger 2.0, which openapi-core does not read): payloads
  against a named definition with jsonschema (Draft 4, the dialect Swagger 2.0 uses).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(os.environ.get("HUB_SPECS_DIR", ROOT.parent / "shared" / "specs"))


@functools.cache
def openapi(relative: str) -> OpenAPI:
    """An OpenAPI 3 spec, e.g. ``xero/xero_accounting.yaml`` (parsed once per test session)."""
    path = SPECS / relative
    spec = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    # Xero's published spec fails the spec *validator* (e.g. `default: "false"` on booleans);
    # requests and responses are still validated against it, which is what the tests need.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def validate_openapi(
    response: requests.Response,
    *,
    spec: str,
    sandbox_base: str,
    real_base: str,
    request: bool = True,
) -> None:
    """Validate ``response`` (and its request) as if it had come from ``real_base``."""
    prepared = response.request.copy()
    assert prepared.url and prepared.url.startswith(sandbox_base), prepared.url
    prepared.url = real_base + prepared.url[len(sandbox_base) :]
    api = openapi(spec)
    openapi_request = RequestsOpenAPIRequest(prepared)
    if request:
        api.validate_request(openapi_request)
    api.validate_response(openapi_request, RequestsOpenAPIResponse(response))


@functools.cache
def _swagger(relative: str) -> dict[str, Any]:
    return json.loads((SPECS / relative).read_text())


def swagger_schema(relative: str, definition: str) -> dict[str, Any]:
    """The JSON schema of one definition, with the spec's definitions alongside for $ref."""
    spec = _swagger(relative)
    if definition not in spec.get("definitions", {}):
        raise KeyError(f"{relative} has no definition {definition!r}")
    return {"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]}


def validate_swagger(instance: Any, *, spec: str, definition: str) -> None:
    jsonschema.Draft4Validator(swagger_schema(spec, definition)).validate(instance)
