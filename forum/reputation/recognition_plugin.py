"""Reputation registrations (recognition_plugin)."""

from __future__ import annotations
