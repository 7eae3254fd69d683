"""Being written."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


period_list = _todo
period_detail = _todo
period_lock_view = _todo
missing_export = _todo
schedule_list = _todo
schedule_edit = _todo
report_list = _todo
report_detail = _todo
report_submit_view = _todo
report_approve_view = _todo
report_return_view = _todo
report_photo_view = _todo
correction_request_view = _todo
correction_list = _todo
correction_decide_view = _todo
