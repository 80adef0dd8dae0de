"""HTML pages of the requests feature (issue 19): feasibility, requests and their review,
fulfilment (pick list, pick by scan) and release (the data set).

Each page module holds plain view functions and lists its routes in its own ROUTES; this module
puts them on the one blueprint, so url_for names read "requests.<view>" and no import registers
anything as a side effect.
"""

from __future__ import annotations

from flask import Blueprint

from lims.requests.views import feasibility, fulfilment, release, requests

bp = Blueprint("requests", __name__)

for module in (feasibility, requests, fulfilment, release):
    for method, rule, view in module.ROUTES:
        bp.add_url_rule(rule, view_func=view, methods=[method])
