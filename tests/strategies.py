"""The one home of Hypothesis strategies for opmodel's values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

#: Department codes as the domain allows them.
codes = st.from_regex(r"[A-Z][A-Z0-9-]{1,11}", fullmatch=True)

#: Positive amounts of money in pounds, with pence.
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999999.99"), places=2)

#: Dates in the programme's era.
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))

#: Cluster names.
cluster_names = st.sampled_from(["Synergy", "Matrix", "Unity", "Defence", "Overseas"])
