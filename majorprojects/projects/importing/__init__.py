"""Importing project ledgers from Excel: read (reader, values) → plan (validate every row, write
nothing) → apply (all-or-nothing through the project services). batches keeps an upload and its
preview between requests; template builds the downloadable import template."""

from .apply import ImportRejected, plan_apply
from .plan import Plan, build_plan
from .reader import ImportFileError, read_sheet

__all__ = ["ImportFileError", "ImportRejected", "Plan", "build_plan", "plan_apply", "read_sheet"]
