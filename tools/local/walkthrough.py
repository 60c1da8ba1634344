"""The README walkthrough's steps that plain curl cannot do well: an upload to the data bucket, and a
document download that waits for the asynchronous issue (an invoice or credit note is rendered after the
order event, so the first GET may well be a 404) and checks it is a PDF before writing it."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3

# downloads/ is ignored by git; LOCAL_DOWNLOADS moves it (the walkthrough's test writes into its own folder).
DOWNLOADS = Path(os.environ.get("LOCAL_DOWNLOADS") or Path(__file__).resolve().parents[2] / "downloads")


def upload(local: dict[str, Any], path: Path) -> str:
    """Puts a file where the pipeline picks files up (`incoming/` in the data bucket); returns its S3 URL."""
    s3 = boto3.client(
        "s3",
        endpoint_url=local["aws"],
        region_name=local["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    key = f"incoming/{path.name}"
    s3.put_object(Bucket=local["dataBucket"], Key=key, Body=path.read_bytes())
    return f"s3://{local['dataBucket']}/{key}"


def download(local: dict[str, Any], token: str, order: str, document: str, *, timeout: float = 60) -> Path:
    """GET /orders/{order}/{document} until it is issued, then the PDF behind its link, into downloads/."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = _get_json(f"{local['api']}/orders/{order}/{document}", token)
        if status == 200:
            break
        if status != 404 or time.monotonic() > deadline:
            raise SystemExit(f"make download: GET /orders/{order}/{document} answered {status}: {body}")
        time.sleep(0.5)
    with urllib.request.urlopen(body["url"], timeout=30) as response:  # noqa: S310 - the stack's presigned link
        pdf = response.read()
    if not pdf.startswith(b"%PDF"):
        raise SystemExit(f"make download: the {document} link did not give a PDF ({len(pdf)} bytes)")
    DOWNLOADS.mkdir(exist_ok=True)
    target = DOWNLOADS / f"{document}-{body['number']}.pdf"
    target.write_bytes(pdf)
    return target


def _get_json(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local gateway
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
