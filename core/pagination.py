from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`page` and `page_size` (domain.md section 9); the page size is capped so one call stays cheap."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
