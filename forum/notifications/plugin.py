"""The notifications domain's registrations."""

from __future__ import annotations
