"""The TM Forum contract check shared by the operator tests (a uniquely named module): the official
schemas of specs/tmf/ with every object closed (additionalProperties: false — the TM Forum files
leave them open, so a plain check would accept a misspelt field), and an HTTP session that checks
every request the TMF adapter sends and every answer it receives."""

from __future__ import annotations

import copy
import json
import threading
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from jsonschema import Draft4Validator
from werkzeug.serving import make_server

from bot.services.operator.tmf_client import API_PATHS

SPECS = Path(__file__).resolve().parents[2] / "specs" / "tmf"
FILES = {
    "TMF620": "TMF620-ProductCatalog-v4.0.0.swagger.json",
    "TMF622": "TMF622-ProductOrder-v4.0.0.swagger.json",
    "TMF635": "TMF635-UsageManagement-v4.0.0.swagger.json",
    "TMF637": "TMF637-ProductInventory-v4.0.0.swagger.json",
    "TMF654": "TMF654-PrepayBalance-v4.0.0.swagger.json",
    "TMF676": "TMF676-Payment-v4.0.0.swagger.json",
    "TMF677": "TMF677-UsageConsumption-v4.0.1.swagger.json",
    "TMF681": "TMF681-Communication-v4.0.0.swagger.json",
}
RESOURCES = {  # path under the API → (definition of a request body, definition of an answer)
    "/bucket": (None, "Bucket"),
    "/product": (None, "Product"),
    "/topupBalance": ("TopupBalance_Create", "TopupBalance"),
    "/productOrder": ("ProductOrder_Create", "ProductOrder"),
    "/usage": (None, "Usage"),
    "/queryUsageConsumption": ("QueryUsageConsumption_Create", "QueryUsageConsumption"),
    "/communicationMessage": ("CommunicationMessage_Create", "CommunicationMessage"),
    "/productOffering": (None, "ProductOffering"),
    "/productOfferingPrice": (None, "ProductOfferingPrice"),
    "/payment": ("Payment_Create", "Payment"),
    "/refund": ("Refund_Create", "Refund"),
}


@cache
def spec(api: str) -> dict[str, Any]:
    return json.loads((SPECS / FILES[api]).read_text(encoding="utf-8"))


def _close(schema: Any) -> None:
    if isinstance(schema, dict):
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _close(value)
    elif isinstance(schema, list):
        for value in schema:
            _close(value)


@cache
def validator(api: str, definition: str, strict: bool = True) -> Draft4Validator:
    definitions = copy.deepcopy(spec(api)["definitions"])
    if strict:
        _close(definitions)
    return Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": definitions})


def problems(api: str, definition: str, body: Any, strict: bool = True) -> list[str]:
    found = validator(api, definition, strict).iter_errors(body)
    return [f"{api} {definition} {'/'.join(map(str, e.path))}: {e.message}" for e in found]


class ContractSession(requests.Session):
    """Checks each TM Forum call against the spec; `violations` lists what did not match,
    `calls` what was called (method, API, path)."""

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[str] = []
        self.calls: list[tuple[str, str, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = urlparse(url).path
        api = next((name for name, base in API_PATHS.items() if path.startswith(base)), None)
        if api is None:  # the OAuth2 token endpoint is not a TM Forum API
            return super().request(method, url, *args, **kwargs)
        resource = path[len(API_PATHS[api]) :]
        self.calls.append((method, api, resource))
        create, answer = RESOURCES[resource]
        if method == "POST":
            self.violations += problems(api, create or "", kwargs.get("json"))
        response = super().request(method, url, *args, **kwargs)
        if response.status_code >= 400:
            if response.status_code not in (503, 504) or response.content:
                self.violations += problems(api, "Error", response.json())
        elif response.content:
            body = response.json()
            for item in body if isinstance(body, list) else [body]:
                self.violations += problems(api, answer, item)
        return response


class LocalServer:
    """A WSGI app on 127.0.0.1 with a random port, in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
