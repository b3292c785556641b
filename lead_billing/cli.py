# This file is part of the lead trading suite. See README.rst for details.
"""lead-billing-run: start a billing run from the command line, with a
progress bar, for operators and schedulers outside Tryton's cron.

    lead-billing-run -c trytond.conf -d DATABASE [--company ID]
        [--cut-off YYYY-MM-DD] [--post]
"""
import argparse
import datetime as dt
import sys

BAR_WIDTH = 30
RETRIES = 5


def progress_bar(stream):
    "Return a callback drawing `done/total` as a bar on one line"
    def draw(done, total, note):
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        stream.write('\r[%s%s] %d/%d %s\033[K' % (
                '#' * filled, '.' * (BAR_WIDTH - filled), done, total,
                note))
        stream.flush()
    return draw


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog='lead-billing-run',
        description="Bill every closed period up to the cut-off: buyer "
        "invoices and supplier self-billing statements.")
    parser.add_argument('-c', '--config', dest='configfile',
        help="the trytond configuration file")
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--company', type=int,
        help="the company id (default: the only company)")
    parser.add_argument('--cut-off', type=dt.date.fromisoformat,
        help="the last day billed (default: yesterday)")
    parser.add_argument('--post', action='store_true',
        help="post and send the documents even when the company wants a "
        "final check of each run")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    from trytond import config
    config.update_etc(args.configfile)

    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    Pool(args.database).init()
    for attempt in range(RETRIES):
        try:
            with Transaction().start(args.database, 0) as transaction:
                summary, tasks = bill(args)
                transaction.commit()
            break
        except backend.DatabaseOperationalError:
            if attempt == RETRIES - 1:
                raise
    sys.stderr.write('\n')
    for task_id in tasks:
        with Transaction().start(args.database, 0) as transaction:
            Pool().get('ir.queue')(task_id).run()
            transaction.commit()
    print(summary)


def bill(args):
    "Run the billing in the current transaction; return its summary"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Company = pool.get('company.company')
    Run = pool.get('lead.billing.run')
    if args.company:
        company = Company(args.company)
    else:
        company, = Company.search([])
    with Transaction().set_context(company=company.id):
        values = {'company': company.id}
        if args.cut_off:
            values['cut_off'] = args.cut_off
        run, = Run.create([values])
        Run.compute([run], progress=progress_bar(sys.stderr))
        run = Run(run.id)
        if args.post and run.state == 'computed':
            Run.post([run])
            run = Run(run.id)
        summary = (
            f"Billing run {run.id} up to {run.cut_off}: {run.state}, "
            f"{run.buyer_invoice_count} buyer invoices for "
            f"{run.delivery_count} deliveries, {run.statement_count} "
            f"self-billing statements for {run.lead_count} leads, "
            f"{run.missing_agreement_count} suppliers without agreement")
        return summary, list(Transaction().tasks)


if __name__ == '__main__':
    main()
