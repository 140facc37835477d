"""Billing: plans, Stripe Checkout and webhooks, the money ledger, Connect, invoices."""
