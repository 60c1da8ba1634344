"""FilesTable's note that valid records of a file were logged (docs/pipeline.md, "Exactly one table"): a file is
born un-noted, and only at birth, so a record made before the note existed keeps counting as noted however often
it is registered again (a Transformer's claim, a duplicate event, a replay)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from dropshop.files.model import StoredFile
from dropshop.files.repository import FileRepository
from tests.support.tables import create_declared_table

TABLE = "files"


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_declared_table(client, "FilesTable", TABLE)
        yield client


def a_file(key: str) -> StoredFile:
    return StoredFile(bucket="ingest", key=key, etag="e" * 32, size=10, uploaded_at="2026-12-07T09:00:00Z")


@given(registrations=st.integers(min_value=1, max_value=4), noted_between=st.booleans())
def test_a_file_is_born_un_noted_and_only_a_note_changes_that(
    dynamodb: Any, registrations: int, noted_between: bool
) -> None:
    files = FileRepository(dynamodb, TABLE)
    file = a_file(f"incoming/{registrations}-{noted_between}-{id(object())}.ndjson")
    files.register(file)
    assert not files.valid_records_logged(file.file_id)
    if noted_between:
        files.note_valid_records_logged(file.file_id)
    for _ in range(registrations):
        files.register(file)  # each claim registers again
    assert files.valid_records_logged(file.file_id) is noted_between


def test_a_file_registered_before_the_note_existed_stays_noted_when_registered_again(dynamodb: Any) -> None:
    files = FileRepository(dynamodb, TABLE)
    file = a_file("incoming/before-the-note.ndjson")
    files.register(file)
    key = {"fileId": {"S": file.file_id}}
    dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE validRecordsLogged")  # the old release

    files.register(file)  # a Transformer run taking it over claims it

    assert files.valid_records_logged(file.file_id)
    assert "validRecordsLogged" not in dynamodb.get_item(TableName=TABLE, Key=key)["Item"]


def test_a_file_never_registered_counts_as_noted_and_is_not_created_by_a_note(dynamodb: Any) -> None:
    files = FileRepository(dynamodb, TABLE)
    file = a_file("incoming/never-registered.ndjson")
    files.note_valid_records_logged(file.file_id)
    assert files.valid_records_logged(file.file_id)
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"fileId": {"S": file.file_id}})
