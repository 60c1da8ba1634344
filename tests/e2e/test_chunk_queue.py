"""The local stack polls ChunkQueue as Lambda would with the mapping's MaximumConcurrency: chunks of one file run
in parallel, each counted once, and the file ends when the last one does."""

from __future__ import annotations

import json
import uuid

from dropshop.ingestion.chunks import Chunk, split
from tests.e2e.conftest import eventually
from tools.local.server import LocalStack


def test_chunks_of_one_file_run_in_parallel_and_the_last_one_ends_the_file(local: LocalStack) -> None:
    assert local.stack is not None
    physical = local.stack.physical
    s3, sqs, dynamodb = (local.stack.client(service) for service in ("s3", "sqs", "dynamodb"))
    lines = [
        {"id": f"acc-chunk-{n}", "name": "Ada", "email": "ada@example.com", "status": "active", "balanceCents": n}
        | {"updatedAt": "2026-11-24T12:00:00Z"}
        for n in range(400)
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    # Not a name the upload rule matches: the chunks below are the only run of this file.
    key = f"incoming/chunked-{uuid.uuid4().hex}.txt"
    etag = s3.put_object(Bucket=physical["DataBucket"], Key=key, Body=data)["ETag"].strip('"')
    file_id = uuid.uuid4().hex
    # Enough chunks that the further pollers join while the first still finds a backlog, even on a busy machine.
    ranges = split(len(data), len(data) // 32 + 1)
    dynamodb.put_item(
        TableName=physical["FilesTable"],
        Item={
            "fileId": {"S": file_id},
            "key": {"S": key},
            "status": {"S": "PROCESSING"},
            **{name: {"N": "0"} for name in ("chunksDone", "recordsRead", "recordsAccepted", "recordsRejected")},
            "chunksTotal": {"N": str(len(ranges))},
        },
    )
    for start, end in ranges:
        chunk = Chunk(file_id, physical["DataBucket"], key, etag, start, end)
        sqs.send_message(QueueUrl=physical["ChunkQueue"], MessageBody=chunk.to_json())

    def ended() -> dict[str, dict[str, str]] | None:
        item = dynamodb.get_item(TableName=physical["FilesTable"], Key={"fileId": {"S": file_id}})["Item"]
        return item if item["status"]["S"] == "PROCESSED" else None

    file = eventually(ended, timeout=180)
    assert (file["chunksDone"]["N"], file["recordsRead"]["N"]) == (str(len(ranges)), "400")
    chunks = local.functions["TransformerChunkFunction"]
    assert chunks.peak_in_flight > 1, "chunks of one file ran at once"
    assert chunks.peak_in_flight <= 4, "never beyond the mapping's MaximumConcurrency"
