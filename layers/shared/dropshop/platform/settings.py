"""Configuration read from the function's environment (declared in template.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

# Bytes a file may hold once decompressed (docs/pipeline.md): ten times the 100 MB file the benchmark
# reads, about what the Transformer reads in its 900 s; a gzip bomb of whitespace stops here, in seconds.
DEFAULT_INGEST_MAX_BYTES = 1024**3
# A plain NDJSON file above this size is split into chunks of it, each ingested by its own invocation
# (docs/pipeline.md); one invocation reads at most this many records, then hands the rest of its chunk on.
DEFAULT_INGEST_CHUNK_BYTES = 32 * 1024**2
DEFAULT_INGEST_CHUNK_RECORDS = 100_000
# A JSON array (scanned once for its items' boundaries) or a gzip file (decompressed once into staged parts) is
# planned into chunks by one Transformer invocation: at most this many bytes (decompressed), what it gets through
# well within its 900 s at the measured rate (docs/pipeline.md).
DEFAULT_INGEST_SPLIT_MAX_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class Settings:
    region: str
    user_pool_id: str
    user_pool_client_id: str
    frontend_origin: str
    endpoint_url: str | None
    account_table: str
    log_table: str
    files_table: str
    writer_queue_url: str
    ingest_prefix: str
    ingest_max_bytes: int
    chunk_queue_url: str
    ingest_chunk_bytes: int
    ingest_chunk_records: int
    ingest_split_max_bytes: int
    products_table: str
    orders_table: str
    outbox_table: str
    idempotency_table: str
    events_topic_arn: str
    auto_confirm_limit_cents: int
    invoices_table: str
    invoices_bucket: str
    connections_table: str
    websocket_callback_url: str
    sender_email: str

    @property
    def token_issuer(self) -> str:
        # Cognito (and moto's emulation of it) always issues tokens under the public AWS URL.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        # Never derived from a token's own `iss`: that would let a forged token choose its verifier.
        base = (
            self.endpoint_url.rstrip("/") if self.endpoint_url else f"https://cognito-idp.{self.region}.amazonaws.com"
        )
        return f"{base}/{self.user_pool_id}/.well-known/jwks.json"


@cache
def settings() -> Settings:
    env = os.environ
    return Settings(
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        user_pool_id=env.get("USER_POOL_ID", ""),
        user_pool_client_id=env.get("USER_POOL_CLIENT_ID", ""),
        frontend_origin=env.get("FRONTEND_ORIGIN", "*"),
        # Declared empty in the template so `sam local --env-vars` can point functions at a local AWS.
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        account_table=env.get("ACCOUNT_TABLE", ""),
        log_table=env.get("LOG_TABLE", ""),
        files_table=env.get("FILES_TABLE", ""),
        writer_queue_url=env.get("WRITER_QUEUE_URL", ""),
        ingest_prefix=env.get("INGEST_PREFIX", "incoming/"),
        ingest_max_bytes=int(env.get("INGEST_MAX_BYTES") or DEFAULT_INGEST_MAX_BYTES),
        chunk_queue_url=env.get("CHUNK_QUEUE_URL", ""),
        ingest_chunk_bytes=int(env.get("INGEST_CHUNK_BYTES") or DEFAULT_INGEST_CHUNK_BYTES),
        ingest_chunk_records=int(env.get("INGEST_CHUNK_RECORDS") or DEFAULT_INGEST_CHUNK_RECORDS),
        ingest_split_max_bytes=int(env.get("INGEST_SPLIT_MAX_BYTES") or DEFAULT_INGEST_SPLIT_MAX_BYTES),
        products_table=env.get("PRODUCTS_TABLE", ""),
        orders_table=env.get("ORDERS_TABLE", ""),
        outbox_table=env.get("OUTBOX_TABLE", ""),
        idempotency_table=env.get("IDEMPOTENCY_TABLE", ""),
        events_topic_arn=env.get("EVENTS_TOPIC_ARN", ""),
        auto_confirm_limit_cents=int(env.get("AUTO_CONFIRM_LIMIT_CENTS", "100000")),
        invoices_table=env.get("INVOICES_TABLE", ""),
        invoices_bucket=env.get("INVOICES_BUCKET", ""),
        connections_table=env.get("CONNECTIONS_TABLE", ""),
        # https://<api>.execute-api.<region>.amazonaws.com/<stage>: where pushes to WebSocket clients go.
        websocket_callback_url=env.get("WEBSOCKET_CALLBACK_URL", ""),
        sender_email=env.get("SENDER_EMAIL", ""),
    )
