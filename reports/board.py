"""The live board at /board (supervisors and admins)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("board", __name__)
