"""The auth feature's use cases: accounts, signing in and sessions, API tokens."""

from lims.auth.services.accounts import (
    AccountStatus,
    create_site,
    create_user,
    deactivate_user,
    find_site,
    find_user,
    list_accounts,
    list_sites_for_admin,
    reactivate_user,
    revoke_user_tokens,
    set_password,
    set_site_time_zone,
    unlock_user,
)
from lims.auth.services.naming import account_codes, viewer_zone
from lims.auth.services.signing_in import (
    Throttle,
    authenticate,
    load_user,
    locked_usernames,
    session_end,
    sign_out,
)
from lims.auth.services.tokens import (
    find_token,
    issue_token,
    list_tokens,
    revoke_token,
    user_for_token,
)

__all__ = [
    "AccountStatus",
    "Throttle",
    "account_codes",
    "authenticate",
    "create_site",
    "create_user",
    "deactivate_user",
    "find_site",
    "find_token",
    "find_user",
    "issue_token",
    "list_accounts",
    "list_sites_for_admin",
    "list_tokens",
    "load_user",
    "locked_usernames",
    "reactivate_user",
    "revoke_token",
    "revoke_user_tokens",
    "session_end",
    "set_password",
    "set_site_time_zone",
    "sign_out",
    "unlock_user",
    "user_for_token",
    "viewer_zone",
]
