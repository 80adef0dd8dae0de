"""Pages: requests (issue 19)."""

from __future__ import annotations

from collections.abc import Callable

from flask.typing import ResponseReturnValue

# (method, rule, view); the endpoint is the view's name: url_for("requests.<view>", ...).
ROUTES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = []
