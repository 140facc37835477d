"""Reputation registrations (dashboard_plugin)."""

from __future__ import annotations
