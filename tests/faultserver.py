"""Moved to support/faultserver.py (shared with bench/); this name stays while branches that import
it are merged, and can go once none does."""

from support.faultserver import *  # noqa: F401,F403
from support.faultserver import FaultServer  # noqa: F401
