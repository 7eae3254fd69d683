"""Being written."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


grid = _todo
grid_row = _todo
template_download = _todo
upload = _todo
