"""The error taxonomy. Every error carries a stable ``code`` that travels on events,
responses and ClickHouse rows, and a ``retryable`` flag that the invocation plan reads.

    RouterError                         base
    ├── ConfigError                     bad settings or catalog; the process exits at start-up
    ├── ModelError                      classifier artifact missing or built for other features
    ├── InvalidRequestError             a request event that breaks the public contract
    ├── ProviderError                   carries provider, model and HTTP status (if any)
    │   ├── ProviderTimeoutError          retryable
    │   ├── ProviderUnavailableError      retryable: connect errors, 5xx
    │   │   └── ProviderRateLimitedError  retryable after ``retry_after`` seconds
    │   ├── ProviderRejectedError         not retryable: 400/401/403/404, context length
    │   └── ProviderProtocolError         unparseable or cut-off reply; fall back, never retry
    ├── RoutingError                    no model may take the request
    └── SinkError                       ClickHouse write failed: retried in place, or the rows refused
"""

from __future__ import annotations


class RouterError(Exception):
    """Base of every error this service raises on purpose."""

    code = "internal_error"
    retryable = False


class ConfigError(RouterError):
    code = "config_error"


class ModelError(RouterError):
    code = "model_error"


class InvalidRequestError(RouterError):
    """A request failed validation; ``problems`` lists every field that was wrong."""

    code = "invalid_request"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class ProviderError(RouterError):
    code = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.provider = provider
        self.model = model
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class ProviderTimeoutError(ProviderError):
    code = "provider_timeout"
    retryable = True


class ProviderUnavailableError(ProviderError):
    code = "provider_unavailable"
    retryable = True


class ProviderRateLimitedError(ProviderUnavailableError):
    code = "provider_rate_limited"


class ProviderRejectedError(ProviderError):
    code = "provider_rejected"


class ProviderProtocolError(ProviderError):
    code = "provider_protocol_error"


class RoutingError(RouterError):
    code = "no_eligible_model"

    def __init__(self, message: str, code: str = "no_eligible_model") -> None:
        self.code = code
        super().__init__(message)


class SinkError(RouterError):
    """A ClickHouse write failed: ``retryable`` when the server was the problem, not the rows."""

    code = "sink_error"
    retryable = True

    def __init__(self, message: str, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)
