"""Every rule and transaction of the requests feature (issue 19): feasibility.py (counts),
workflow.py (request lifecycle, review, attachments, notifications), fulfilment.py (pick list,
reservation, picking, the outbound shipment), release.py (the de-identified data set)."""

from __future__ import annotations

from lims.requests.services.attachments import (
    AttachmentFile,
    AttachmentKind,
    attach_file,
    attachment_file,
)
from lims.requests.services.notifications import (
    list_notifications,
    mark_read,
    notify,
    notify_roles,
    unread_count,
)
from lims.requests.services.review import (
    HistoryEntry,
    add_review,
    current_votes,
    decide_request,
    may_comment,
    may_vote,
    request_history,
    visible_reviews,
    vote_tally,
)
from lims.requests.services.workflow import (
    MOVERS,
    change_state,
    create_draft,
    edit_draft,
    find_request,
    list_requests,
    may_move,
    may_see,
    move_state,
    new_request_code,
    submission_problems,
    submit_request,
)

__all__ = [
    "MOVERS",
    "AttachmentFile",
    "AttachmentKind",
    "HistoryEntry",
    "add_review",
    "attach_file",
    "attachment_file",
    "change_state",
    "create_draft",
    "current_votes",
    "decide_request",
    "edit_draft",
    "find_request",
    "list_notifications",
    "list_requests",
    "mark_read",
    "may_comment",
    "may_move",
    "may_see",
    "may_vote",
    "move_state",
    "new_request_code",
    "notify",
    "notify_roles",
    "request_history",
    "submission_problems",
    "submit_request",
    "unread_count",
    "visible_reviews",
    "vote_tally",
]
