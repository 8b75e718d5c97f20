"""The webhooks in the OpenAPI schema: a plain Django view (connectors.webhooks), so drf-spectacular does not
see it; this postprocessing hook describes it, so the platforms' endpoint is documented with the rest and the
generated requests of tests/test_api_schema.py reach it too."""

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
PATH = "/api/v1/webhooks/{platform}/{page_id}/"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def add_webhooks(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("paths", {})[PATH] = {
        "post": {
            "operationId": "webhooks_create",
            "tags": ["connectors"],
            "summary": "A platform's event (VK Callback API, MAX Bot API, Telegram Bot API)",
            "description": (
                "Called by the platform, not by clients. The page's secret authenticates: VK's `secret` in the "
                "body, MAX's `X-Max-Bot-Api-Secret` or Telegram's `X-Telegram-Bot-Api-Secret-Token` header. "
                "The event is stored before it is acknowledged with the plain text `ok` (VK's `confirmation`: "
                "the page's confirmation string) and processed later; a re-sent event is acknowledged and ignored."
            ),
            "security": [{}],
            "parameters": [
                {
                    "name": "platform",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["vk", "max", "telegram"]},
                },
                {
                    "name": "page_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                    "description": "The public page's id.",
                },
                {"name": "X-Max-Bot-Api-Secret", "in": "header", "required": False, "schema": {"type": "string"}},
                {
                    "name": "X-Telegram-Bot-Api-Secret-Token",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": True,
                            "description": "The platform's own payload (domain.md section 8), at most 1 MB.",
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Acknowledged: `ok`, or VK's confirmation string.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "400": _error("Not a JSON object, or not the platform's format."),
                "403": _error("A wrong or missing secret, or another community's event."),
                "404": _error("Unknown page, an inactive one, or a page of another platform."),
                "405": _error("Only POST."),
                "413": _error("The body is over 1 MB."),
            },
        }
    }
    return result
