"""Billing registrations (checkout_plugin)."""

from __future__ import annotations
