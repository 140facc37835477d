"""The support queue's verbs in one place (each lives in its own module)."""

from __future__ import annotations

from forum.support_queue.convert import check_convert, convert, do_convert
from forum.support_queue.imports import (
    expected_response_for_new,
    import_draft_ticket,
    import_ticket_post,
)
from forum.support_queue.notes import add_note, check_note, do_add_note, list_notes
from forum.support_queue.permissions import (
    TicketContext,
    access_ticket,
    access_ticket_of_topic,
)
from forum.support_queue.states import (
    assign,
    check_assignee,
    check_set_state,
    check_visibility,
    check_worth,
    do_assign,
    do_set_state,
    do_set_visibility,
    set_state,
    set_tier,
)
from forum.support_queue.tickets import (
    check_create_ticket,
    check_submit,
    create_ticket,
    do_create_ticket,
    do_submit,
    ensure_support_category,
    support_settings,
)

__all__ = [
    "TicketContext", "access_ticket", "access_ticket_of_topic", "add_note", "assign",
    "check_assignee", "check_convert", "check_create_ticket", "check_note", "check_set_state",
    "check_submit", "check_visibility", "check_worth", "convert", "create_ticket",
    "do_add_note", "do_assign", "do_convert", "do_create_ticket", "do_set_state",
    "do_set_visibility", "do_submit", "ensure_support_category", "expected_response_for_new",
    "import_draft_ticket", "import_ticket_post", "list_notes", "set_state",
    "set_tier", "support_settings",
]
