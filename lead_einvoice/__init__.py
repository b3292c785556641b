# This file is part of the lead trading suite. See README.rst for details.
