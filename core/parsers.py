"""The API's JSON parser: DRF's, with its errors in the request's language and a bound on nesting.

Python's json module recurses once per level of nesting, so `'[' * 1000` raised RecursionError (a 500) and a
body a little less deep reached the serializers, whose own recursion could fail the same way. No input of the
API is nested more than a few levels; anything deeper than MAX_DEPTH is refused before a serializer sees it.
"""

import codecs
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit`; iterative, so it cannot recurse out of stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        too_deep = _("The JSON body is nested too deeply (at most %(limit)s levels).") % {"limit": MAX_DEPTH}
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError:
            raise ParseError(too_deep) from None
        except json.JSONDecodeError as exc:
            raise ParseError(
                _("The request body is not valid JSON (line %(line)s, column %(column)s).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
        except ValueError:  # undecodable bytes, or NaN/Infinity in strict mode
            raise ParseError(_("The request body is not valid JSON.")) from None
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(too_deep)
        return data
