"""The job's OpenAPI 3 document and the small HTML page served at ``/docs``."""
from __future__ import annotations

import html
import json
import re
from typing import Any, Dict, List, Optional

from pitlane_wrapper import __version__

_SIMPLE = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "complex": {"type": "number"},
    "decimal": {"type": "number"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "dict": {"type": "object"},
    "list": {"type": "array", "items": {}},
    "tuple": {"type": "array", "items": {}},
    "set": {"type": "array", "items": {}},
}


def schema_for(type_name: Optional[str]) -> Dict[str, Any]:
    """A JSON schema for a parameter's type name (``float``, ``list[float]``, ``Dict[str, int]``, ``Optional[int]``)."""
    if not type_name:
        return {}
    t = type_name.strip()
    m = re.match(r"^(?:Optional)\[(.*)\]$", t)
    if m:
        inner = schema_for(m.group(1))
        return {**inner, "nullable": True} if inner else {}
    m = re.match(r"^([A-Za-z_.]+)\[(.*)\]$", t)
    if m:
        outer = m.group(1).split(".")[-1].lower()
        if outer in ("list", "sequence", "set", "frozenset", "iterable", "tuple"):
            items = schema_for(m.group(2)) if outer != "tuple" else {}
            return {"type": "array", "items": items}
        if outer in ("dict", "mapping"):
            parts = m.group(2).split(",", 1)
            return {"type": "object", "additionalProperties": schema_for(parts[1]) if len(parts) == 2 else {}}
        return {}
    return dict(_SIMPLE.get(t.split(".")[-1].lower(), {}))


def _body_schema(params: List[Dict[str, Any]]) -> Dict[str, Any]:
    props: Dict[str, Any] = {}
    required: List[str] = []
    for p in params:
        s = schema_for(p.get("type"))
        if "default_value" in p:
            s = {**s, "default": p["default_value"]}
        else:
            required.append(p["name"])
        props[p["name"]] = s
    schema: Dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "type": {"type": "string"}},
    "required": ["error", "type"],
}


def _call_operation(summary: str, description: str, params: List[Dict[str, Any]], example: Any, op_id: str) -> Dict[str, Any]:
    content: Dict[str, Any] = {"schema": _body_schema(params)}
    if example is not None:
        content["example"] = example
    return {
        "operationId": op_id,
        "summary": summary,
        "description": description or summary,
        "requestBody": {"required": True, "content": {"application/json": content}},
        "responses": {
            "200": {"description": "The result, JSON-encoded", "content": {"application/json": {"schema": {}}}},
            "400": {"description": "Bad input: the call raised ValueError or TypeError, or the body is not a JSON object", "content": {"application/json": {"schema": _ERROR}}},
            "500": {"description": "The call raised another exception", "content": {"application/json": {"schema": _ERROR}}},
            "503": {"description": "The job is not ready yet", "content": {"application/json": {"schema": _ERROR}}},
        },
    }


def _get(summary: str, content_type: str = "application/json", op_id: str = "") -> Dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "responses": {"200": {"description": summary, "content": {content_type: {}}}}}


def build_document(
    *,
    job_name: str,
    job_version: str,
    base_path: str,
    class_name: str,
    class_doc: str,
    perform_doc: str,
    perform_params: List[Dict[str, Any]],
    auxiliary: Dict[str, Dict[str, Any]],
    static: Dict[str, str],
    examples: Dict[str, Any],
) -> Dict[str, Any]:
    """The OpenAPI 3.0 document. ``auxiliary`` maps ``/explain`` to ``{doc, params}``; ``static`` maps a path to its mimetype."""
    paths: Dict[str, Any] = {
        "/api/v1/perform": {"post": _call_operation("Call perform", perform_doc, perform_params, examples.get("/perform"), "perform")},
        "/api/v1/parameters": {"get": _get("Parameters of perform (name, type, default_value)", op_id="parameters")},
    }
    for path, info in sorted(auxiliary.items()):
        op_id = "auxiliary_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
        paths[f"/api/v1{path}"] = {"post": _call_operation(f"Call auxiliary endpoint {path}", info.get("doc", ""), info.get("params", []), examples.get(path), op_id)}
    for path, mimetype in sorted(static.items()):
        op_id = "static_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
        paths[f"/api/v1{path}"] = {"get": _get(f"Static file {path}", mimetype, op_id)}
    paths["/live"] = {"get": _get("Liveness: {live, deployment_timestamp}; 500 with error when the entry class failed to load", op_id="live")}
    paths["/ready"] = {"get": _get("Readiness: 200 once the entry class is constructed", op_id="ready")}
    paths["/health"] = {"get": _get("Health summary", op_id="health")}
    paths["/metrics"] = {"get": _get("Prometheus metrics", "text/plain; version=0.0.4", "metrics")}
    description = class_doc or f"Job {job_name} ({class_name}) served by Pitlane's python3 wrapper"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Job - {job_name}" if job_name else f"Job - {class_name}",
            "version": job_version or "0.0.0",
            "description": description,
            "x-pitlane-wrapper": {"type": "python3", "version": __version__, "entrypoint_class": class_name},
        },
        "servers": [{"url": base_path}] if base_path else [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "RacetrackAuth": {"type": "apiKey", "in": "header", "name": "X-Racetrack-Auth"},
                "BearerAuth": {"type": "http", "scheme": "bearer"},
            }
        },
        "security": [{"RacetrackAuth": []}, {"BearerAuth": []}],
        "paths": paths,
    }


def render_html(doc: Dict[str, Any]) -> str:
    """A dependency-free page: the endpoints, each call endpoint with its example and a "Call"
    button. Links are relative, so the page works at the root and under ``/pub/job/{name}/{version}``."""
    info = doc.get("info", {})
    title = html.escape(str(info.get("title", "Job")))
    rows: List[str] = []
    n = 0
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            summary = html.escape(str(op.get("summary", "")))
            rel = html.escape(path.lstrip("/"))
            if method == "post":
                n += 1
                content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                example = json.dumps(content.get("example", {}), indent=2)
                desc = html.escape(str(op.get("description", "")))
                rows.append(
                    f'<section><h2><code>POST {html.escape(path)}</code></h2><p>{summary}</p><pre class="d">{desc}</pre>'
                    f'<textarea id="b{n}" rows="6" cols="80">{html.escape(example)}</textarea><br>'
                    f'<button onclick="call(\'{rel}\', \'b{n}\', \'r{n}\')">Call</button><pre id="r{n}"></pre></section>'
                )
            else:
                rows.append(f'<section><h2><code>GET <a href="{rel}">{html.escape(path)}</a></code></h2><p>{summary}</p></section>')
    script = (
        "async function call(path, body, out) {"
        " const el = document.getElementById(out); el.textContent = '...';"
        " try { const r = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: document.getElementById(body).value});"
        " el.textContent = r.status + ' ' + await r.text(); } catch (e) { el.textContent = String(e); } }"
    )
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title + "</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "section{border-top:1px solid #ccc;padding:.5rem 0}pre{background:#f4f4f4;padding:.5rem;white-space:pre-wrap}"
        "pre.d{background:none;padding:0}</style></head><body>"
        f"<h1>{title} <small>{html.escape(str(info.get('version', '')))}</small></h1>"
        f"<p>{html.escape(str(info.get('description', '')))}</p>"
        '<p>OpenAPI document: <a href="docs/openapi.json">docs/openapi.json</a></p>'
        + "".join(rows)
        + "<script>" + script + "</script></body></html>"
    )
