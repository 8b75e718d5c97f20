"""gunicorn's settings for the API (`gunicorn config.wsgi --config config/gunicorn.py`): Dockerfile, compose, bench.

The request limits are checked by gunicorn before Django sees the request, so what exceeds them gets gunicorn's
own short HTML error page, not the API's JSON shape (README, "Hardening"). They are set here, explicitly, a
little above what any client of the API needs: a list query with every filter fits in one request line.
Limits on the body (size, number of form fields) are Django's (DATA_UPLOAD_MAX_*), answered in the JSON shape.
"""

limit_request_line = 8190  # bytes of "GET /path?query HTTP/1.1"; longer: 414 from gunicorn
limit_request_fields = 100  # number of headers; more: 431 from gunicorn (400 in older versions)
limit_request_field_size = 8190  # bytes of one header line; longer: 431 from gunicorn (400 in older versions)
