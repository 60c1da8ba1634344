"""moto's server as the local stack runs it keeps each S3 body on disk once (tools/local/moto_s3_bodies.py): the
stack lists the data bucket's versions on every poll, and moto used to spool a new copy of every body for each
listing and keep it for good, which filled the disk with a 1 GiB upload (docs/benchmarks.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tools.local.moto_server import MotoServer

SPOOLED = 6 * 2**20  # moto spools a body to a temporary file above ~5 MiB


def spooled_files(pid: int) -> list[int]:
    """Sizes of the deleted-but-open temporary files the process holds: moto's bodies on disk."""
    sizes = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).endswith("(deleted)"):
                sizes.append(fd.stat().st_size)
        except OSError:  # closed meanwhile
            continue
    return sorted(sizes)


@pytest.fixture
def moto() -> Iterator[tuple[Any, int]]:
    server = MotoServer()
    try:
        endpoint = server.wait_until_up()
        s3 = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
        yield s3, server.pid
    finally:
        server.stop()


def test_listing_versions_again_and_again_adds_no_copy_of_any_body_and_a_deleted_version_frees_its_own(
    moto: tuple[Any, int],
) -> None:
    s3, pid = moto
    first, second = os.urandom(SPOOLED), os.urandom(SPOOLED)
    s3.put_object(Bucket="data", Key="incoming/big.ndjson", Body=first)
    s3.put_object(Bucket="data", Key="incoming/big.ndjson", Body=second)
    held = spooled_files(pid)
    assert held == [SPOOLED, SPOOLED]

    for _ in range(5):
        listed = s3.list_object_versions(Bucket="data")["Versions"]
    assert spooled_files(pid) == held, "a listing must not spool (and keep) a copy of every body"

    newest, older = listed
    assert (newest["IsLatest"], older["IsLatest"]) == (True, False)
    assert s3.get_object(Bucket="data", Key="incoming/big.ndjson")["Body"].read() == second
    s3.delete_object(Bucket="data", Key="incoming/big.ndjson", VersionId=older["VersionId"])
    assert spooled_files(pid) == [SPOOLED]
    assert s3.list_object_versions(Bucket="data")["Versions"][0]["IsLatest"] is True
    assert s3.get_object(Bucket="data", Key="incoming/big.ndjson")["Body"].read() == second
