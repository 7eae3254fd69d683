"""Being written."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


overview = _todo
overview_export = _todo
