"""The figures page at /admin/figures (supervisors and admins)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("figures", __name__, url_prefix="/admin/figures")
