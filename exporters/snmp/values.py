"""The plain values SNMP replies become: int, bytes, OID tuple, or END."""

from __future__ import annotations


class _End:
    """noSuchObject / noSuchInstance / endOfMibView (and NULL): no value here."""

    def __repr__(self) -> str:
        return "END"


END = _End()
