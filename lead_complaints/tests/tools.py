# This file is part of the lead trading suite. See README.rst for details.
"""Building blocks for complaint tests: recent deliveries (complaint windows
count from today), complaints by reason code and billing runs that bill
them."""
from trytond.modules.lead_billing.tests.tools import (  # noqa: F401
    ago, create_party, deliver_lead, run_billing)
from trytond.pool import Pool

deliver = deliver_lead


def reason(code):
    Reason = Pool().get('lead.complaint.reason')
    record, = Reason.search([('code', '=', code)])
    return record


def complain(delivery, code='UNREACHABLE', submit=True, **values):
    "File a complaint about `delivery` for the reason of `code`"
    Complaint = Pool().get('lead.complaint')
    complaint, = Complaint.create([{
                'delivery': delivery.id,
                'reason': reason(code).id,
                'description': "Customer cannot be reached",
                **values}])
    if submit:
        Complaint.submit([complaint])
    return Complaint(complaint.id)


def weekly_parties(fixture, window_days=60):
    """Bill buyers and the supplier weekly and give the buyers a long
    complaint window, so that a delivery of ten days ago is both billed by
    a run up to yesterday and still open to complaints"""
    Party = Pool().get('party.party')
    Party.write([fixture.buyer, fixture.buyer2], {
            'lead_billing_interval': 'weekly',
            'lead_complaint_window_days': window_days,
            })
    Party.write([fixture.supplier], {'lead_billing_interval': 'weekly'})


def third_buyer(fixture):
    return create_party("Dach & Sonne OHG", 'B3', lead_buyer=True,
        lead_billing_interval='weekly', lead_complaint_window_days=60)
