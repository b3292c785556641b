# This file is part of the lead trading suite. See README.rst for details.

from . import routes

__all__ = [routes]
