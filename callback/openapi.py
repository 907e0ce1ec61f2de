"""The OpenAPI 3.0 document of the JSON API, kept beside the code it describes."""

from __future__ import annotations

from typing import Any

_PROBLEM = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "The body field (or header) at fault, when there is one."},
    },
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {**_PROBLEM, "description": "The first problem (the one clients have always read)."},
        "errors": {
            "type": "array",
            "items": _PROBLEM,
            "minItems": 1,
            "description": "Every problem found, the first being `error` (the callback API lists them all).",
        },
    },
}

_CALLBACK = {
    "type": "object",
    "required": [
        "id",
        "status",
        "topic",
        "position",
        "estimated_wait_seconds",
        "attempts",
        "phone",
        "status_url",
    ],
    "properties": {
        "id": {"type": "string", "description": "Unguessable reference; knowing it allows canceling."},
        "status": {
            "type": "string",
            "enum": [
                "queued",
                "dialing",
                "connecting",
                "connected",
                "completed",
                "retry_wait",
                "failed",
                "canceled",
                "expired",
            ],
        },
        "topic": {"type": "string"},
        "position": {
            "type": "integer",
            "nullable": True,
            "minimum": 0,
            "description": "Waiting requests of the same queue that will be served first (0: next).",
        },
        "estimated_wait_seconds": {
            "type": "integer",
            "nullable": True,
            "minimum": 0,
            "description": "null when no agent is on duty: the wait is unknown.",
        },
        "not_before": {"type": "string", "format": "date-time", "nullable": True},
        "attempts": {"type": "integer", "minimum": 0},
        "phone": {"type": "string", "description": "Masked, e.g. +1******4567."},
        "created_at": {"type": "string", "format": "date-time"},
        "status_url": {"type": "string", "format": "uri"},
        "language": {
            "type": "string",
            "enum": ["en", "es"],
            "description": "The language of the call and texts about the request.",
        },
    },
}

_NEW_CALLBACK = {
    "type": "object",
    "required": ["phone", "name", "topic", "consent"],
    "properties": {
        "phone": {
            "type": "string",
            "description": "E.164, or national format in `country` or DEFAULT_REGION.",
        },
        "country": {
            "type": "string",
            "description": "ISO 3166 two-letter code for a national-format phone number (422 bad_country if not one).",
        },
        "name": {"type": "string", "maxLength": 80},
        "topic": {"type": "string", "description": "A queue name, e.g. orders, returns."},
        "order_number": {"type": "string", "maxLength": 40},
        "not_before": {
            "type": "string",
            "format": "date-time",
            "description": "A time inside the queue's hours, in the next 7 days; omit for as soon as possible.",
        },
        "consent": {"type": "boolean", "enum": [True]},
        "language": {
            "type": "string",
            "enum": ["en", "es"],
            "description": "The language we call and text in; omit to follow Accept-Language (else en).",
        },
    },
}

_AGENT = {
    "type": "object",
    "required": ["id", "name", "queues", "status"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "phone": {"type": "string", "nullable": True},
        "client": {"type": "string", "nullable": True},
        "queues": {"type": "array", "items": {"type": "string"}},
        "status": {
            "type": "string",
            "enum": ["offline", "available", "reserved", "on_call", "wrap_up", "away"],
        },
        "status_since": {"type": "string", "format": "date-time"},
        "status_reason": {
            "type": "string",
            "nullable": True,
            "description": 'Why the status last changed, in words ("missed a call from the orders line").',
        },
    },
}

_RECORDING = {
    "type": "object",
    "required": ["id", "request", "duration_seconds", "channels", "format", "created_at", "url"],
    "properties": {
        "id": {"type": "integer"},
        "request": {"type": "string", "description": "The request's reference."},
        "duration_seconds": {"type": "number", "nullable": True},
        "channels": {"type": "integer", "nullable": True},
        "format": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri", "description": "Heard by signed-in staff allowed to hear it."},
    },
}


def _json(schema: dict[str, Any] | str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "The body is not valid JSON (code bad_json)",
        401: "Missing or wrong admin token",
        404: "Unknown id",
        409: "Not possible in the current state",
        413: "The body is larger than MAX_CONTENT_LENGTH",
        415: "The body is not JSON (code unsupported_media_type): send Content-Type: application/json",
        422: "Invalid input",
        429: "A limit was hit; see Retry-After",
        503: "The database is unavailable for a moment (code unavailable); try again after Retry-After seconds",
    }
    responses = {str(code): _json("Error", words[code]) for code in codes}
    for code in {429, 503} & set(codes):
        responses[str(code)]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return responses


def document(server_url: str) -> dict[str, Any]:
    """The whole OpenAPI document for a server at `server_url`."""
    ref_param = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
    agent_param = {"name": "agent_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    admin: list[dict[str, list[str]]] = [{"adminToken": []}]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Callme API",
            "version": "1",
            "description": "Ask for a callback, follow it and cancel it; manage agents (admin).",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/callbacks": {
                "post": {
                    "operationId": "createCallback",
                    "summary": "Ask for a callback",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                "Your own random key for this ask (a UUID, say). A retry with the same key, whose "
                                "first answer was lost, gets the request it made (201, Idempotent-Replayed: true) "
                                "instead of 409, whatever became of it since (canceled, say). The key used again "
                                "for another number or topic is refused (422 idempotency_key_reused)."
                            ),
                            "schema": {"type": "string", "minLength": 16, "maxLength": 255, "pattern": "^[!-~]+$"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _NEW_CALLBACK}},
                    },
                    "responses": {
                        "201": {
                            **_json("Callback", "Queued (or, with a replayed Idempotency-Key, the request it made)"),
                            "headers": {
                                "Location": {"schema": {"type": "string"}, "description": "The request's URL."},
                                "Idempotent-Replayed": {
                                    "schema": {"type": "string", "enum": ["true"]},
                                    "description": "Present on a retry with an Idempotency-Key already used.",
                                },
                            },
                        },
                        # The existing request's id is never given to whoever asks: it goes to the phone by text.
                        "409": _json("Error", "An active request for this number and topic already exists"),
                        **_errors(400, 413, 415, 422, 429, 503),
                    },
                }
            },
            "/api/callbacks/{ref}": {
                "get": {
                    "operationId": "getCallback",
                    "summary": "A request's status, position and estimated wait",
                    "parameters": [ref_param],
                    "responses": {"200": _json("Callback", "The request"), **_errors(404, 503)},
                },
                "delete": {
                    "operationId": "cancelCallback",
                    "summary": "Cancel a request (idempotent)",
                    "parameters": [ref_param],
                    "responses": {"200": _json("Callback", "Canceled"), **_errors(404, 409, 503)},
                },
            },
            "/api/agents": {
                "get": {
                    "operationId": "listAgents",
                    "security": admin,
                    "responses": {
                        "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Agent"}}, "Agents"),
                        **_errors(401, 503),
                    },
                },
                "post": {
                    "operationId": "addAgent",
                    "security": admin,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["name", "queues"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "phone": {"type": "string"},
                                        "client": {"type": "string"},
                                        "queues": {
                                            "oneOf": [
                                                {"type": "array", "items": {"type": "string"}},
                                                {"type": "string"},
                                            ]
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"201": _json("Agent", "Added"), **_errors(400, 401, 409, 413, 415, 422, 503)},
                },
            },
            "/api/agents/{agent_id}/status": {
                "post": {
                    "operationId": "setAgentStatus",
                    "security": admin,
                    "parameters": [agent_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status"],
                                    "properties": {
                                        "status": {"type": "string", "enum": ["available", "away", "offline"]}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("Agent", "Changed"),
                        **_errors(400, 401, 404, 409, 413, 415, 422, 503),
                    },
                }
            },
            "/api/recordings": {
                "get": {
                    "operationId": "listRecordings",
                    "summary": "The stored recordings of one request",
                    "security": admin,
                    "parameters": [{"name": "request", "in": "query", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _json(
                            {"type": "array", "items": {"$ref": "#/components/schemas/Recording"}}, "Recordings"
                        ),
                        **_errors(401, 404, 422, 503),
                    },
                }
            },
        },
        "components": {
            "schemas": {"Callback": _CALLBACK, "Error": _ERROR, "Agent": _AGENT, "Recording": _RECORDING},
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
