"""Helpers for the tests of the Cohere, Meta, Vertex AI and Bedrock providers: the loopback fake with
their protocols (tests/fake_cloud_api.py), credentials that never leave 127.0.0.1 (a service-account
key made here whose token URI is the fake's /token, dummy AWS keys with the AWS chain's files and
instance metadata switched off), each api_type's api_config entry pointed at the fake, and
upstream v2.0's own provider functions (utils/completion.py, loaded from the reference folder) to
compare requests with."""
from __future__ import annotations

import functools
import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from arena_hard.core.api_types import missing_package
from conftest import UPSTREAM_V2_DIR

API_TYPES = ("cohere", "meta", "vertex", "bedrock")
FAST = {"max_attempts": 4, "backoff_base": 0.01, "backoff_max": 0.02, "timeout": 10.0}
MODELS = {"cohere": "command-a-03-2025", "meta": "llama-4-maverick", "vertex": "gemini-2.5-pro",
          "bedrock": "anthropic.claude-3-haiku-20240307-v1:0"}
REGIONS = ("us-east5", "europe-west4")
AWS_KEYS = ("AKIDFIRST", "AKIDSECOND")
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL")


@functools.lru_cache(maxsize=1)
def private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def service_account_file(path: Path, token_uri: str) -> Path:
    """A service account's key file, as Google Cloud's console gives one, whose tokens come from `token_uri`."""
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "test-project", "private_key_id": "test-key-id",
        "private_key": private_key_pem(), "client_email": "arena@test-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri}), encoding="utf-8")
    return path


def isolate_credentials(monkeypatch: Any, tmp_path: Path) -> None:
    """No credential from the machine: no AWS variables, files or instance metadata, no gcloud file."""
    for variable in AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("COHERE_API_KEY", "cohere-test-key")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def entry(api_type: str, url: str, endpoints: int = 1, parallel: int = 4, **extra: Any) -> dict[str, Any]:
    """api_type's entry in upstream's keys, with `endpoints` endpoints at the fake, told apart by a path
    prefix (Cohere, Meta), a region (Vertex AI) or an access key id (Bedrock). Skips the test when the
    api_type's optional SDK (requirements-optional.txt) is not installed."""
    if missing_package(api_type):
        pytest.skip(missing_package(api_type))
    common = {"parallel": parallel, **FAST, **extra}
    if api_type == "cohere":
        return {"model": MODELS["cohere"], "api_type": "cohere", **common,
                "endpoints": [{"api_base": f"{url}/e{i}/compatibility/v1"} for i in range(endpoints)]}
    if api_type == "meta":
        return {"model": MODELS["meta"], "api_type": "meta", **common,
                "endpoints": [{"api_base": f"{url}/e{i}", "api_key": "meta-test-token"} for i in range(endpoints)]}
    if api_type == "vertex":
        return {"model": MODELS["vertex"], "api_type": "vertex", "project_id": "test-project",
                "regions": list(REGIONS[:endpoints]), "endpoints": [{"api_base": url}], **common}
    return {"model": "aws_claude3_haiku", "model_id": MODELS["bedrock"], "api_type": "aws_claude",
            "aws_region": "eu-west-1", **common,
            "endpoints": [{"api_base": url, "aws_access_key_id": key, "aws_secret_access_key": "test-secret"}
                          for key in AWS_KEYS[:endpoints]]}


def endpoint_of(server: Any, record: Any) -> str:
    """Which of an entry's endpoints a logged request went to."""
    request = record.request
    if request.protocol == "vertex":
        return request.params["location"]
    if request.protocol == "bedrock":
        return server.aws_scopes[[r.request.number for r in server.requests if r.request.protocol == "bedrock"]
                                 .index(request.number)][0]
    return request.path.split("/")[1]


def upstream_completion(monkeypatch: Any) -> types.ModuleType | None:
    """Upstream v2.0's utils/completion.py as a module (its shortuuid import stubbed), or None when the
    reference folder does not hold it."""
    folder = UPSTREAM_V2_DIR / "utils"
    if not (folder / "completion.py").is_file():
        return None
    monkeypatch.setitem(sys.modules, "shortuuid", types.ModuleType("shortuuid"))
    modules = {}
    for name in ("bedrock_utils", "completion"):
        spec = importlib.util.spec_from_file_location(f"upstream_{name}", folder / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, "utils.bedrock_utils", modules["bedrock_utils"])
        spec.loader.exec_module(modules[name])
    return modules["completion"]
