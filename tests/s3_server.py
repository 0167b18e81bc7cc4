"""A local S3-compatible server for the tests: moto's, in a thread, on 127.0.0.1.

moto implements the S3 API in memory (buckets, PUT, LIST, GET), so the s3 sink is tested
through the same boto3 calls it makes against AWS, R2 or MinIO, with no network beyond
loopback. The fixture `s3_endpoint` starts one server per test module on a free port and
gives its URL; credentials can be anything, moto does not check them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "testing-key-id"
SECRET_ACCESS_KEY = "testing-secret-key"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """The URL of a fresh local S3 server (port 0: the system picks a free one)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
