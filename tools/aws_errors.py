"""What `make token`/`make refusals` print when AWS cannot be reached: one line saying what to do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError


@contextlib.contextmanager
def one_line(command: str, *, local_hint: str) -> Iterator[None]:
    """Turns the AWS SDK's failures to reach a stack into `SystemExit` with the fix (not a traceback)."""
    try:
        yield
    except NoRegionError:
        raise SystemExit(
            f"make {command}: no AWS region: set AWS_DEFAULT_REGION (or a profile's), or {local_hint}"
        ) from None
    except NoCredentialsError:
        raise SystemExit(
            f"make {command}: no AWS credentials: set AWS_PROFILE (or run `aws configure`), or {local_hint}"
        ) from None
    except EndpointConnectionError as error:
        raise SystemExit(
            f"make {command}: nothing answers at {error.kwargs.get('endpoint_url')}: {local_hint}"
        ) from None
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise SystemExit(f"make {command}: {error.operation_name} refused: {message}") from None
