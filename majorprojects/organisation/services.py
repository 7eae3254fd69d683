"""Changes to organisation data (city admin only). One function saves any of the five
configuration models from a validated ModelForm and records the change."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from majorprojects.accounts.scope import can_configure
from majorprojects.audit.services import event_record


@transaction.atomic
def organisation_save(*, actor, form):
    """Save a validated organisation ModelForm (region, unit, person, work group, sector)."""
    if not can_configure(actor):
        raise PermissionDenied("仅市级管理员可维护组织机构。")
    creating = form.instance.pk is None
    changed = [] if creating else list(form.changed_data)
    obj = form.save()
    if not creating and obj.__class__.__name__ == "Region" and ("parent" in changed or "code" in changed):
        _repath_descendants(obj)
    event_record(
        actor=actor,
        verb=f"{obj._meta.model_name}_{'create' if creating else 'update'}",
        target=obj,
        details={"changed": changed},
    )
    return obj


def _repath_descendants(region) -> None:
    for child in region.children.all():
        child.save()
        _repath_descendants(child)
