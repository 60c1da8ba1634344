"""AWS clients, created once per container and reused by every invocation."""

from __future__ import annotations

from functools import cache
from typing import Any

from dropshop.platform import snapshot
from dropshop.platform.observability import tracer


@cache
def client(service: str, *, endpoint_url: str | None = None, signature_version: str | None = None) -> Any:
    """The one client per service (and endpoint, and signature) this container uses."""
    # botocore reads AWS_ENDPOINT_URL itself and ignores it when empty, so a local stack needs nothing here.
    config = None
    if signature_version:
        from botocore.config import Config

        config = Config(signature_version=signature_version)
    return _session().create_client(service, endpoint_url=endpoint_url, config=config)


@cache
def _session() -> Any:
    # botocore's own session makes the very clients boto3 would, without importing boto3 and s3transfer
    # (~60 ms of cold start); functions that never call AWS import neither.
    import botocore.session

    tracer.patch(["botocore"])  # trace what we use, from the first client on
    snapshot.refresh_after_restore()  # botocore's retry jitter must differ between restored environments
    return botocore.session.get_session()
