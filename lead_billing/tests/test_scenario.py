# This file is part of the lead trading suite. See README.rst for details.
"""Run the scenario_*.rst doctests of the module, one pytest test each.

Tryton collects scenarios through unittest's load_tests protocol, which
pytest does not follow; the cases Tryton builds are run here instead."""
import unittest

import pytest

from trytond.tests.test_tryton import load_doc_tests


def scenarios():
    return list(load_doc_tests(
            __name__, __file__, unittest.TestLoader(), unittest.TestSuite(),
            None))


@pytest.mark.parametrize(
    'scenario', scenarios(), ids=lambda case: str(case).split('/')[-1])
def test_scenario(scenario):
    result = unittest.TestResult()
    scenario.run(result)
    problems = result.failures + result.errors
    assert not problems, '\n'.join(text for _, text in problems)
