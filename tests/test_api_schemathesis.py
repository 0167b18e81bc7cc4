"""The API against its own OpenAPI description, with schemathesis: generated requests,
valid and invalid, to every operation; no answer is a 5xx, and every answer (status,
content type, body) is one `/openapi.json` declares.

The app is the one `flowc run` serves, on a program that has run once, called in process
(schemathesis' ASGI transport). Generated pipeline names are mostly replaced by real ones
so that the endpoints answer with data, not only 404. Streams end after a fraction of a
second (`max_seconds`), as an EventSource's server may end them. Bounded: ~30 s.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from flowc.compiler.checker import check_path
from flowc.runtime.api import ApiSettings
from flowc.runtime.api_stream import StreamSettings
from flowc.runtime.app import Runtime
from flowc.runtime.server import build_app
from flowc.runtime.store.duckdb_store import DuckDBStore
from tests.test_api import NOW, PROGRAM

# Without the file sink: its worker would belong to the event loop that built the runtime,
# and schemathesis serves the app on an event loop of its own.
_PROGRAM = PROGRAM.replace("  sink out\n", "").replace(
    'sink out: file {\n  path: "out/readings.jsonl"\n  format: "jsonl"\n}\n\n', ""
)
NAMES = ("cleaned", "by_sensor", "hooked")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


async def _runtime(directory: Path) -> Runtime:
    path = directory / "p.flow"
    path.write_text(_PROGRAM)
    store = DuckDBStore(directory / "s.duckdb")
    runtime = await Runtime.start(check_path(path), store, clock=lambda: NOW)
    await runtime.run_once()
    return runtime


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory = tmp_path_factory.mktemp("api")
    runtime = asyncio.run(_runtime(directory))
    stream = StreamSettings(keepalive=0.05, max_seconds=0.2)
    app = build_app(runtime, spool_dir=directory / "spool", api_settings=ApiSettings(stream=stream))
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        asgi.shutdown_lifespans()
        asyncio.run(runtime.close())


OPERATIONS = [
    ("GET", "/api/pipelines"),
    ("GET", "/api/pipelines/{name}"),
    ("GET", "/api/pipelines/{name}/records"),
    ("GET", "/api/pipelines/{name}/series"),
    ("GET", "/api/pipelines/{name}/runs"),
    ("POST", "/api/pipelines/{name}/run"),
    ("GET", "/api/pipelines/{name}/stream"),
    ("GET", "/api/dead-letters"),
    ("POST", "/api/dead-letters/{id}/replay"),
    ("GET", "/metrics"),
]


def test_every_operation_is_tested(api_schema: Any) -> None:
    described = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert described == set(OPERATIONS)


# Operations with a parameter that can be invalid (a number out of range, a bad date or
# aggregate); the others take any string, and have no invalid request to make.
CONSTRAINED = {
    "/api/pipelines/{name}/records",
    "/api/pipelines/{name}/series",
    "/api/pipelines/{name}/runs",
    "/api/dead-letters",
}
CASES = [
    *((method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS),
    *(
        (method, path, GenerationMode.NEGATIVE)
        for method, path in OPERATIONS
        if path in CONSTRAINED
    ),
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_the_api_keeps_to_its_openapi_description(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(case: schemathesis.Case[Any]) -> None:
        name = (case.path_parameters or {}).get("name")
        if mode.is_positive and isinstance(name, str):
            # Three in four generated names become a real pipeline's, chosen by the name.
            choice = zlib.crc32(name.encode("utf-8", "surrogatepass")) % 4
            if choice < 3:
                case.path_parameters["name"] = NAMES[choice]
        case.call_and_validate(checks=CHECKS)

    call()
