"""boto3 clients for the actuators, and the one retry policy for AWS calls (tenacity).

botocore's own retries are switched off so that exactly one policy (ours: backoff with jitter,
bounded attempts, injectable sleep) decides, and tests can count attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from controlplane.stack.route53 import EMULATOR_CREDENTIALS

# Throttling and "a change is still applying" are expected on Route 53; the rest are AWS's transient set.
TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded",
    "TooManyRequestsException", "ServiceUnavailable", "InternalError", "InternalFailure",
    "RequestTimeout", "ServerException",
})


def boto_client(service: str, endpoint_url: str | None, region: str, timeout_s: float = 10.0) -> Any:
    extra: dict[str, str] = {}
    if endpoint_url and ("127.0.0.1" in endpoint_url or "localhost" in endpoint_url):
        extra = dict(EMULATOR_CREDENTIALS)  # the emulator wants some; they never leave loopback
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=timeout_s, read_timeout=timeout_s)
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region,  # type: ignore[call-overload]
                        config=config, **extra)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code in TRANSIENT_CODES or status >= 500 or status == 429
    return isinstance(exc, ConnectionError | HTTPClientError)


def describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def retrying(attempts: int, sleep: Callable[[float], None] = time.sleep,
             initial_s: float = 0.2, max_wait_s: float = 5.0) -> Retrying:
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=initial_s, max=max_wait_s, jitter=initial_s),
        sleep=sleep,
        reraise=True,
    )
