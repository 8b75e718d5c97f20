"""Assertions shared by the API tests."""


def assert_error(response, status: int, *, fields: tuple[str, ...] = ()) -> dict:
    """The response is an error in the one shape, with the given status and at least these field errors."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"status", "code", "message", "fields"}, body
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    for name in fields:
        assert name in body["fields"], (name, body["fields"])
    return body
