"""drf-spectacular: document the one error shape on every operation, so clients and schemathesis know it."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="A stable machine-readable code: `invalid`, `not_found`, `conflict`, ...")
    message = serializers.CharField(help_text="A human-readable message in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted for nested input); empty when not about fields.",
    )

    class Meta:
        ref_name = "Error"


_ERROR = ErrorSerializer
_DESCRIPTIONS = {
    "400": "Invalid input: see `fields`.",
    "401": "No or invalid credentials.",
    "403": "Authenticated, but the role does not allow this action.",
    "404": "Not found, or outside the caller's scope.",
    "409": "Conflict with the current state of the object.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
    "406": "The requested response format is not available.",
    "405": "The method is not allowed here.",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        method = self.method.upper()
        codes = ["401", "403", "406"]
        if "{" in self.path:
            codes.append("404")
        if method in {"POST", "PUT", "PATCH"}:
            codes += ["400", "415"]
        if self.get_filter_backends() or self._get_paginator():
            codes.append("400")
            codes.append("404")  # DRF answers 404 for a page number past the end
        codes += getattr(self.view, "extra_error_codes", [])
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=_ERROR, description=_DESCRIPTIONS.get(code, "Error.")), code
                )
        return responses
