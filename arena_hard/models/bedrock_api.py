"""api_type `bedrock` (upstream's aws_claude, aws_mistral, aws_llama, aws_nova, aws_deepseek): every
model family through Bedrock's Converse API, one request shape for all.

The request: the system message as `system`, the other turns as `messages` with their roles, the
temperature and `maxTokens` in `inferenceConfig`; `extra_body` goes in `additionalModelRequestFields`
(a model's own options, such as Claude's `thinking`). Reasoning blocks are the thought; the token
counts are the response's `usage`. Credentials and region: an endpoint's aws_access_key_id /
aws_secret_access_key (/ aws_session_token) and the entry's `aws_region`, else the standard AWS chain
(environment, ~/.aws files, SSO, instance roles), else upstream's default region us-west-2. An
endpoint's api_base is the `endpoint_url` (a VPC endpoint, or a test's fake).

boto3 is synchronous: each call runs in a daemon thread of its own (the model's `parallel` bounds how
many; an interrupted run does not wait at exit for calls still under way, as it would for a thread
pool's), over `parallel` pooled connections, with botocore's own retries off (our client retries). A
ClientError becomes an APIStatusError with its HTTP status (ThrottlingException 429: retried;
ValidationException 400: reported; AccessDenied 403: the endpoint is dropped); a connection failure
or timeout is a ConnectionError (retried). Reads the AWS configuration files boto3 reads; writes nothing."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from arena_hard.core.api_types import missing_package
from arena_hard.core.endpoints import Endpoint, ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.models.http_api import APIStatusError
from arena_hard.models.replies import ChatResult, chat_result, usage_counts

DEFAULT_REGION = "us-west-2"  # upstream's


def _boto3() -> Any:
    missing = missing_package("bedrock")
    if missing:
        raise UserError(missing)
    import boto3
    return boto3


def options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    """A boto3 session with the endpoint's keys or the AWS chain's; a UserError when it finds none."""
    session = _boto3().Session(aws_access_key_id=endpoint.aws_access_key_id,
                               aws_secret_access_key=endpoint.aws_secret_access_key,
                               aws_session_token=endpoint.aws_session_token, region_name=endpoint.region)
    if session.get_credentials() is None:
        raise UserError(f"{model.source}: `{model.name}` (api_type bedrock) found no AWS credentials; configure "
                        "them (aws configure, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...) or set "
                        "endpoints[].aws_access_key_id and aws_secret_access_key")
    return {"session": session, "region": session.region_name or DEFAULT_REGION, "endpoint_url": endpoint.api_base,
            "timeout": model.timeout, "workers": model.parallel}


class BedrockClient:
    def __init__(self, session: Any, region: str, endpoint_url: str | None, timeout: float, workers: int):
        _boto3()
        from botocore.config import Config
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=timeout,
                                      connect_timeout=min(timeout, 60.0), max_pool_connections=workers)
        self.runtime = session.client("bedrock-runtime", region_name=region, endpoint_url=endpoint_url, config=config)

    async def converse(self, params: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def run() -> None:
            try:
                outcome: tuple[Callable[[Any], None], Any] = (future.set_result, self._converse(params))
            except BaseException as error:
                outcome = (future.set_exception, error)
            try:
                loop.call_soon_threadsafe(_settle, future, *outcome)
            except RuntimeError:  # the run has ended and its loop is closed: nobody waits for this answer
                pass

        threading.Thread(target=run, name="bedrock-converse", daemon=True).start()
        return await future

    def _converse(self, params: dict[str, Any]) -> dict[str, Any]:
        from botocore import exceptions
        try:
            return self.runtime.converse(**params)
        except exceptions.ClientError as error:
            response = error.response
            meta = response.get("ResponseMetadata", {})
            code, message = response.get("Error", {}).get("Code", ""), response.get("Error", {}).get("Message", "")
            raise APIStatusError(int(meta.get("HTTPStatusCode") or 400), f"{code}: {message}",
                                 meta.get("HTTPHeaders")) from None
        except (exceptions.HTTPClientError, exceptions.ConnectionError) as error:
            raise ConnectionError(f"{type(error).__name__}: {error}") from None

    async def close(self) -> None:
        self.runtime.close()


def _settle(future: asyncio.Future, setter: Callable[[Any], None], value: Any) -> None:
    if not future.cancelled():
        setter(value)


def new_client(options: dict[str, Any]) -> BedrockClient:
    return BedrockClient(**options)


def request_params(model: ModelConfig, request: Any) -> dict[str, Any]:
    system = [{"text": m["content"]} for m in request.messages if m["role"] == "system"]
    params: dict[str, Any] = {
        "modelId": model.model_name,
        "messages": [{"role": m["role"], "content": [{"text": m["content"]}]}
                     for m in request.messages if m["role"] != "system"],
        "inferenceConfig": {"maxTokens": request.max_tokens, "temperature": request.temperature},
    }
    if system:
        params["system"] = system
    if model.extra_body:
        params["additionalModelRequestFields"] = model.extra_body
    return params


async def call(client: BedrockClient, model: ModelConfig, request: Any) -> ChatResult:
    response = await client.converse(request_params(model, request))
    if "output" not in response:  # botocore's reading of a body cut off or garbled
        raise ConnectionError("the Converse response was cut off or garbled (no `output`)")
    blocks = ((response.get("output") or {}).get("message") or {}).get("content") or []
    text = "".join(block["text"] for block in blocks if isinstance(block.get("text"), str))
    thought = "".join(((block.get("reasoningContent") or {}).get("reasoningText") or {}).get("text", "")
                      for block in blocks)
    usage = response.get("usage") or {}
    counts = usage_counts(inputTokens=usage.get("inputTokens"), outputTokens=usage.get("outputTokens"))
    return chat_result(text, thought or None, counts, response.get("stopReason") == "max_tokens")
