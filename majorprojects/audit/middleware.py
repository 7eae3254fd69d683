from .services import set_request_ip


def client_ip(request) -> str | None:
    # Behind a reverse proxy set REMOTE_ADDR correctly (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


class RequestIpMiddleware:
    """Remembers the client address so event rows can record where a change came from."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        set_request_ip(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            set_request_ip(None)
