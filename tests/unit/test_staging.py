"""A gzip file's decompressed bytes staged in parts (ingestion/staging.py) on moto's in-process S3: the parts are the
bytes added, cut every `part_bytes`; a reader from any offset reads the rest of them, part after part; a file's parts
are removed in DeleteObjects calls of at most 1,000 keys, and the keys S3 would not delete are reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.ingestion.staging import PartsReader, PartWriter, Staged, StagedPartGone, remove_parts
from tests.support.properties import budget

BUCKET = "data"


@pytest.fixture
def s3(aws_session: boto3.session.Session) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("s3")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws_session.region_name})
        yield client


def stored_parts(s3: Any, prefix: str) -> list[tuple[str, bytes]]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return [(item["Key"], s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()) for item in listed]


def read_all(reader: PartsReader, size: int) -> bytes:
    read = b""
    while data := reader.read(size):
        read += data
    reader.close()
    return read


@budget(25)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=30), max_size=12),
    part_bytes=st.integers(min_value=1, max_value=40),
    data=st.data(),
)
def test_staged_parts_are_the_bytes_added_cut_every_part_and_read_back_from_any_offset(
    s3: Any, pieces: list[bytes], part_bytes: int, data: st.DataObject
) -> None:
    file_id = f"f-{len(pieces)}-{part_bytes}-{sum(map(len, pieces))}"
    for key, _ in stored_parts(s3, Staged.prefix_of(file_id)):  # an earlier example of the same name
        s3.delete_object(Bucket=BUCKET, Key=key)
    writer = PartWriter(s3, BUCKET, file_id, part_bytes)
    for piece in pieces:
        writer.add(piece)
    staged = writer.finish()
    whole = b"".join(pieces)
    assert staged == Staged(f"staging/{file_id}/", part_bytes, len(whole))
    parts = stored_parts(s3, staged.prefix)
    assert [key for key, _ in parts] == staged.part_keys()
    assert [body for _, body in parts] == [whole[n : n + part_bytes] for n in range(0, len(whole), part_bytes)]
    offset = data.draw(st.integers(min_value=0, max_value=len(whole)), label="offset")
    size = data.draw(st.integers(min_value=1, max_value=2 * part_bytes + 1), label="read size")
    assert read_all(PartsReader(s3, BUCKET, staged, offset), size) == whole[offset:]


def test_a_part_is_named_by_its_file_and_index_so_that_a_re_run_writes_the_same_ones(s3: Any) -> None:
    for _ in range(2):
        writer = PartWriter(s3, BUCKET, "f-1", 4)
        writer.add(b"0123456789")
        staged = writer.finish()
    assert stored_parts(s3, "staging/") == [
        ("staging/f-1/00000000", b"0123"),
        ("staging/f-1/00000001", b"4567"),
        ("staging/f-1/00000002", b"89"),
    ]
    assert staged.part_keys() == [key for key, _ in stored_parts(s3, "staging/")]


def test_a_part_gone_ends_the_stream_as_an_unreadable_file_where_that_part_begins(s3: Any) -> None:
    writer = PartWriter(s3, BUCKET, "f-1", 4)
    writer.add(b"0123456789")
    staged = writer.finish()
    s3.delete_object(Bucket=BUCKET, Key=staged.part_key(1))
    reader = PartsReader(s3, BUCKET, staged, 1)
    assert reader.read(100) == b"123"
    with pytest.raises(StagedPartGone) as gone:
        reader.read(100)
    assert gone.value.position == 4
    assert gone.value.reason.startswith(f"the staged part {staged.part_key(1)} of the decompressed file is gone: ")


def deletes_at_most_1000_keys(s3: Any) -> list[int]:
    """DeleteObjects takes up to 1,000 keys a request and refuses more with MalformedXML
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html); moto takes any number, so the refusal
    is injected here. The size of each request, as sent."""
    sizes: list[int] = []

    def check(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["Delete"]["Objects"]))
        if sizes[-1] > 1000:
            raise ClientError({"Error": {"Code": "MalformedXML", "Message": "over 1000 keys"}}, "DeleteObjects")

    s3.meta.events.register("provide-client-params.s3.DeleteObjects", check)
    return sizes


def test_a_files_parts_are_removed_in_requests_of_at_most_1000_keys_and_those_s3_keeps_reported(s3: Any) -> None:
    """A bucket policy denying the deletion of one part in each request: DeleteObjects answers each key's refusal in
    its Errors, and the other keys are deleted."""
    writer = PartWriter(s3, BUCKET, "f-1", 1)
    writer.add(b"x" * 1003)
    staged = writer.finish()
    kept = [staged.part_key(3), staged.part_key(1001)]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": [f"arn:aws:s3:::{BUCKET}/{key}" for key in kept],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    sizes = deletes_at_most_1000_keys(s3)
    assert remove_parts(s3, BUCKET, staged) == kept
    assert sizes == [1000, 3]
    assert [key for key, _ in stored_parts(s3, "staging/")] == kept


def test_a_file_with_no_parts_costs_no_request(s3: Any) -> None:
    sizes = deletes_at_most_1000_keys(s3)
    assert remove_parts(s3, BUCKET, Staged("staging/f-1/", 4, 0)) == []
    assert sizes == []
