# This file is part of the lead trading suite. See README.rst for details.
"""Building blocks for complaint tests: recent deliveries (complaint windows
count from today), complaints by reason code and billing runs that bill
them."""
import datetime as dt

from trytond.modules.lead_billing.tests.tools import create_party, lead_values
from trytond.pool import Pool


def ago(days=0, hours=0):
    "A naive UTC time `days` and `hours` before now"
    return dt.datetime.now() - dt.timedelta(days=days, hours=hours)


def deliver(fixture, reference, *buyers, delivered_at=None, **values):
    """Create a valid lead of `fixture` and deliver it to each buyer;
    return the deliveries"""
    pool = Pool()
    Lead = pool.get('lead.lead')
    Delivery = pool.get('lead.delivery')
    delivered_at = delivered_at or ago(hours=2)
    values.setdefault('received_at', delivered_at - dt.timedelta(minutes=5))
    lead, = Lead.create([lead_values(fixture, reference, **values)])
    return Delivery.create([{
                'lead': lead.id, 'buyer': buyer.id,
                'delivered_at': delivered_at,
                } for buyer in buyers])


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


def run_billing(fixture, post=True):
    "Compute (and post) a billing run up to yesterday"
    pool = Pool()
    Run = pool.get('lead.billing.run')
    Date = pool.get('ir.date')
    run, = Run.create([{
                'company': fixture.company.id,
                'cut_off': Date.today() - dt.timedelta(days=1),
                }])
    Run._compute([run])
    if post:
        Run.post([run])
    return Run(run.id)
