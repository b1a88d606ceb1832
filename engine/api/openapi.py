"""The events API's OpenAPI 3.1 document (`GET /openapi.json`) and a page that reads it (`GET /docs`).

Every endpoint of the app is declared once as an `Operation` next to its route (engine/api/app.py builds both from
the same list), and its bodies are the pydantic models that validate them (engine/services/event_schemas.py): the
schemas come from `models_json_schema`, nothing is written by hand. The page is rendered here from the document —
no JavaScript bundle, no CDN (the API must work offline) — and links the JSON for Swagger / Redoc / code generators.
"""

import html
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from engine.services.event_schemas import ErrorBody

REF = "#/components/schemas/{model}"

#: (status, description) of the errors every authenticated endpoint can answer
AUTH_ERRORS = {401: "The API key is missing or wrong", 429: "Too many requests for this key: retry after "
               "`Retry-After` seconds", 503: "Database or handler unavailable: retry later"}

SECURITY_SCHEMES: dict[str, Any] = {
    "apiKey": {"type": "http", "scheme": "bearer", "description": "The workspace's API key: "
               "`Authorization: Bearer <key>`"},
    "writeKey": {"type": "http", "scheme": "basic", "description": "Segment style: the workspace's API key as the "
                 "basic auth user, no password (or `writeKey` in the body, or the Bearer header)"},
    "receiptToken": {"type": "http", "scheme": "bearer", "description": "Providers' receipt token "
                     "(RECEIPT_CALLBACK_TOKEN, else data/receipt_token)"},
}


@dataclass(frozen=True)
class Body:
    """A JSON body: one model, or several accepted shapes (`one_of`: a model, or `[model]` for a list of it)."""

    one_of: tuple[type[BaseModel] | list[type[BaseModel]], ...]
    gzip: bool = True


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    description: str
    tag: str
    body: Body | None = None
    raw_body: dict[str, Any] | None = None  # a non-JSON request body (CSV), as OpenAPI content
    parameters: tuple[dict[str, Any], ...] = ()
    ok: tuple[int, str, type[BaseModel] | None] = (200, "OK", None)
    errors: dict[int, str] = field(default_factory=dict)
    security: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # response headers of the success answer


def _models(ops: list[Operation]) -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {ErrorBody: None}
    for op in ops:
        if op.body is not None:
            for shape in op.body.one_of:
                for model in shape if isinstance(shape, list) else [shape]:
                    seen[model] = None
        if op.ok[2] is not None:
            seen[op.ok[2]] = None
    return list(seen)


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def document(ops: list[Operation], *, title: str, version: str, description: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `ops`, schemas generated from their pydantic models."""
    models = _models(ops)
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        item: dict[str, Any] = {"summary": op.summary, "description": op.description, "tags": [op.tag],
                                "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_').replace('{', '')}"
                                .replace("}", "")}
        if op.parameters:
            item["parameters"] = list(op.parameters)
        if op.body is not None:
            shapes = [{"type": "array", "items": _ref(s[0])} if isinstance(s, list) else _ref(s)
                      for s in op.body.one_of]
            schema = shapes[0] if len(shapes) == 1 else {"oneOf": shapes}
            item["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}},
                                   "description": "JSON; `Content-Encoding: gzip` accepted" if op.body.gzip else "JSON"}
        elif op.raw_body is not None:
            item["requestBody"] = {"required": True, "content": op.raw_body}
        status, words, model = op.ok
        ok: dict[str, Any] = {"description": words}
        if model is not None:
            ok["content"] = {"application/json": {"schema": _ref(model)}}
        if op.headers:
            ok["headers"] = {h: {"description": d, "schema": {"type": "string"}} for h, d in op.headers.items()}
        responses: dict[str, Any] = {str(status): ok}
        errors = {**(AUTH_ERRORS if op.security else {}), **op.errors}
        for code in sorted(errors):
            answer: dict[str, Any] = {"description": errors[code],
                                      "content": {"application/json": {"schema": _ref(ErrorBody)}}}
            if code == 429:
                answer["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying",
                                                     "schema": {"type": "integer"}}}
            responses[str(code)] = answer
        item["responses"] = responses
        if op.security:
            item["security"] = [{name: []} for name in op.security]
        paths.setdefault(op.path, {})[op.method] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }


# ---------------------------------------------------------------- the page


def page(doc: dict[str, Any]) -> str:
    """A self-contained HTML reference of `doc`: every operation with its auth, body and answers, then every
    schema (as JSON Schema)."""
    e = html.escape
    parts = [f"<h1>{e(doc['info']['title'])} <small>{e(doc['info']['version'])}</small></h1>",
             f"<p>{e(doc['info']['description'])}</p>",
             '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1; load it in Swagger UI, '
             "Redoc or a client generator).</p>", "<nav><ul>"]
    ops = [(path, method, item) for path, methods in doc["paths"].items() for method, item in methods.items()]
    for path, method, item in ops:
        parts.append(f'<li><a href="#{e(item["operationId"])}"><code>{method.upper()} {e(path)}</code></a> — '
                     f"{e(item['summary'])}</li>")
    parts.append("</ul></nav>")
    for path, method, item in ops:
        parts.append(f'<section id="{e(item["operationId"])}"><h2><code>{method.upper()} {e(path)}</code></h2>'
                     f"<p><b>{e(item['summary'])}</b></p><p>{e(item['description'])}</p>")
        if item.get("security"):
            names = ", ".join(next(iter(s)) for s in item["security"])
            parts.append(f"<p>Auth: {e(names)}</p>")
        for p in item.get("parameters", []):
            parts.append(f"<p>Parameter <code>{e(p['name'])}</code> ({e(p['in'])}): {e(p.get('description', ''))}</p>")
        if "requestBody" in item:
            parts.append("<h3>Body</h3>")
            for content, spec in item["requestBody"]["content"].items():
                parts.append(f"<p><code>{e(content)}</code></p><pre>{e(json.dumps(spec.get('schema', {}), indent=2))}"
                             "</pre>")
        parts.append("<h3>Answers</h3><ul>")
        for code, answer in item["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            ref = schema.get("$ref", "").rsplit("/", 1)[-1]
            link = f' — <a href="#schema-{e(ref)}">{e(ref)}</a>' if ref else ""
            parts.append(f"<li><code>{e(code)}</code> {e(answer['description'])}{link}</li>")
        parts.append("</ul></section>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        parts.append(f'<section id="schema-{e(name)}"><h3>{e(name)}</h3>'
                     f"<pre>{e(json.dumps(schema, indent=2))}</pre></section>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
             "pre{background:#f5f5f5;padding:.75rem;overflow:auto;font-size:.85rem}section{border-top:1px solid #ddd}"
             "h2 code{font-size:1.1rem}")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(doc['info']['title'])}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
