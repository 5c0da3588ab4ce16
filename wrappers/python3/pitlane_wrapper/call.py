"""Calling another job through Pitlane's gateway from inside a job (Racetrack's ``call_job``).

``call_job(self, 'adder', '/api/v1/perform', {'numbers': [1, 2]})`` sends the request to
``{PUB_URL}/job/adder/latest/api/v1/perform`` with the job's own ``AUTH_TOKEN`` (as
``X-Racetrack-Auth`` and ``Authorization: Bearer``) and passes on the incoming request's tracing
and caller headers. Standard library only (urllib).
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any, Dict, Optional


def _incoming_headers(entrypoint: Any) -> Dict[str, str]:
    out: Dict[str, str] = {}
    ctx = getattr(entrypoint, "request_context", None)
    if ctx is None:
        return out
    try:
        request = ctx.get()
    except LookupError:
        return out
    headers = getattr(request, "headers", None)
    if headers is None:
        return out
    tracing = os.environ.get("REQUEST_TRACING_HEADER") or "X-Request-Tracing-Id"
    caller = os.environ.get("CALLER_NAME_HEADER") or "X-Caller-Name"
    for name in (tracing, caller):
        value = headers.get(name)
        if value:
            out[name] = value
    return out


def call_job(
    entrypoint: Any,
    job_name: str,
    path: str = "/api/v1/perform",
    payload: Optional[Dict[str, Any]] = None,
    version: str = "latest",
    method: str = "POST",
    timeout: Optional[float] = 10,
) -> Any:
    """Calls another job's endpoint and returns its decoded JSON answer.

    :raises RuntimeError: when the job cannot be reached or answers with a non-2xx status.
    """
    src_job = os.environ.get("JOB_NAME", "")
    pub_url = os.environ.get("PUB_URL")
    if not pub_url:
        raise RuntimeError(f'failed to call job "{job_name} {version}" by {src_job}: PUB_URL is not set')
    url = f"{pub_url.rstrip('/')}/job/{job_name}/{version}/{path.lstrip('/')}"
    headers = {"Accept": "application/json", **_incoming_headers(entrypoint)}
    token = os.environ.get("AUTH_TOKEN")
    if token:
        headers["X-Racetrack-Auth"] = token
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if payload is not None:
        data = json.dumps(payload).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        raise RuntimeError(f'failed to call job "{job_name} {version}" by {src_job}: HTTP {e.code}: {text}') from e
    except Exception as e:
        raise RuntimeError(f'failed to call job "{job_name} {version}" by {src_job}: {e}') from e
    return json.loads(body.decode("utf-8")) if body.strip() else None
