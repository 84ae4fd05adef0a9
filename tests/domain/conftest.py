"""Hypothesis settings for the pure-logic tests.

Under scripts/mutate (MLVER_MUTATION=1) every mutant must meet the same
examples, so a kill does not depend on luck, and a slow machine must not
count as a kill: derandomized, no example database, no deadline.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "mutation", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("MLVER_MUTATION"):
    settings.load_profile("mutation")
