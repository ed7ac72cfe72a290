"""Audit integrity: the hash chain (``canonical``), verification, digests and evidence packs
(``integrity``). See ``docs/audit.md``."""
