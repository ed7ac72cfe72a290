"""The ledger's canonical bytes are the verifier's, byte for byte (SPEC §7)."""

from __future__ import annotations

import hashlib
import uuid

from hypothesis import given
from hypothesis import strategies as st

from opmodel.audit.canonical import canonical, link
from opmodel.projections.base import Envelope, StoredRow
from opmodel.projections.ledger import CanonicalBytes

topics = st.sampled_from(
    ["opmodel.domain.cluster:Cluster.Formed", "opmodel.domain.décision:Décision.Proposed"]
) | st.text(min_size=1, max_size=40)


@given(
    position=st.integers(1, 10**12),
    ident=st.uuids(),
    version=st.integers(1, 10**6),
    topic=topics,
    state=st.binary(max_size=300),
    as_stored=st.sampled_from([bytes, memoryview]),
)
def test_the_ledger_makes_the_verifier_s_canonical_bytes(
    position: int, ident: uuid.UUID, version: int, topic: str, state: bytes, as_stored: type
) -> None:
    stored = StoredRow(position, ident, version, topic, as_stored(state))
    made = CanonicalBytes()(Envelope(position, None, stored))
    assert made == canonical(position, ident.hex, version, topic, state)


@given(previous=st.binary(min_size=32, max_size=32), data=st.binary(max_size=2000))
def test_a_link_is_the_hash_of_the_previous_hash_and_the_bytes(
    previous: bytes, data: bytes
) -> None:
    assert link(previous, data) == hashlib.sha256(previous + data).digest()
