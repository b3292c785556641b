# This file is part of the lead trading suite. See README.rst for details.
import json
from decimal import Decimal
from http import HTTPStatus

from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    Response, user_application, with_pool, with_transaction)
from trytond.wsgi import app

from .exceptions import IntakeError

INTAKE_APPLICATION = 'lead_intake'


def _json_response(data, status=HTTPStatus.OK):
    return Response(
        json.dumps(data, separators=(',', ':')),
        status=status, content_type='application/json')


@app.route('/<database_name>/lead_billing/intake', methods=['POST'])
@with_pool
@with_transaction()
@user_application(INTAKE_APPLICATION)
def intake(request, pool):
    """Take a JSON batch of leads: either a list of rows or an object with
    the list under "leads". Answers per row (see lead.intake)."""
    Intake = pool.get('lead.intake')

    try:
        data = json.loads(request.get_data(), parse_float=Decimal)
    # RecursionError: arrays or objects nested too deeply for the decoder
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        return _json_response({'error': gettext(
                    'lead_billing.msg_intake_malformed_json', error=str(e))},
            HTTPStatus.BAD_REQUEST)
    if isinstance(data, dict) and set(data) == {'leads'}:
        data = data['leads']
    limit = Intake.batch_limit()
    if isinstance(data, list) and len(data) > limit:
        return _json_response({'error': gettext(
                    'lead_billing.msg_intake_batch_too_large',
                    size=len(data), limit=limit)},
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    try:
        results = Intake.ingest(data)
    except IntakeError as e:
        return _json_response({'error': e.message}, HTTPStatus.BAD_REQUEST)
    summary = {}
    for result in results:
        summary[result['status']] = summary.get(result['status'], 0) + 1
    return _json_response({'summary': summary, 'results': results})
