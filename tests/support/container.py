"""What a warm Lambda container keeps between invocations, forgotten between tests as a cold start would."""

from __future__ import annotations


def cold_start() -> None:
    """Forget every configuration and client the layer caches per container.

    Each of these was read or built from the environment of the test that first used it: kept, it would point
    the next test at that test's AWS (moto's server instead of the in-process mock, or a table that is gone).
    """
    from dropshop.identity import service as identity
    from dropshop.operations import hook
    from dropshop.platform import aws, idempotency, settings

    settings.settings.cache_clear()
    aws.client.cache_clear()
    aws._session.cache_clear()
    identity.verifier.cache_clear()
    identity.directory.cache_clear()
    idempotency._store.cache_clear()
    hook.smoke_tests.cache_clear()
