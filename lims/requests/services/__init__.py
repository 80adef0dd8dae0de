"""Every rule and transaction of the requests feature (issue 19): feasibility.py (counts),
workflow.py (request lifecycle, review, attachments, notifications), fulfilment.py (pick list,
reservation, picking, the outbound shipment), release.py (the de-identified data set)."""
