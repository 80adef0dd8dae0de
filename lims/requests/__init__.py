"""Investigators' specimen requests: feasibility, review, fulfilment, release (issue 19)."""
