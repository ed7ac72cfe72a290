"""A contract's terms and the dates they give: its end, its latest possible end.

:class:`ContractTerms` is what an award settles. :class:`Term` is a contract's
running term as it stands (start, term, extension allowance, extensions
exercised): :class:`~opmodel.domain.contract.Contract` builds one from its own
state to read its dates and to check an extension or a correction of its term.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from opmodel.domain.values import contract_end
from opmodel.errors import ExtensionExceedsAllowance, InvalidInput


def check_end_in_calendar(ref: str, start: date | None, months: int | None) -> None:
    """Rule: a contract's latest possible end is a date opmodel can hold."""
    if start is None or months is None:
        return
    try:
        contract_end(start, months)
    except InvalidInput as exc:
        raise InvalidInput(f"contract {ref}: {exc.message}", contract=ref) from None


@dataclass(frozen=True)
class ContractTerms:
    """What an award settles, passed whole from the command to the award's event."""

    kind: str
    supplier: str
    value: Decimal
    start: date
    term_months: int
    extension_months: int
    framework: str | None = None

    def check_in_calendar(self, ref: str) -> None:
        """Rule: the awarded contract's latest possible end is a date opmodel can hold."""
        check_end_in_calendar(ref, self.start, self.term_months + self.extension_months)


@dataclass(frozen=True)
class Term:
    """A contract's running term: when it started, for how long, how far it may run."""

    ref: str
    start: date | None
    term_months: int | None
    extension_months: int | None
    extended_months: int

    @property
    def end(self) -> date | None:
        """Start + term + extensions exercised."""
        if self.start is None or self.term_months is None:
            return None
        return contract_end(self.start, self.term_months + self.extended_months)

    @property
    def max_end(self) -> date | None:
        """Start + term + the whole extension allowance."""
        if self.start is None or self.term_months is None:
            return None
        return contract_end(self.start, self.term_months + (self.extension_months or 0))

    @property
    def extension_left(self) -> int:
        """Months of extension allowance not yet exercised."""
        return (self.extension_months or 0) - self.extended_months

    def would_run_for(self, **changes: object) -> int | None:
        """Months from start to the latest possible end, were ``changes`` made (term, allowance)."""
        term = changes.get("term_months", self.term_months)
        allowance = changes.get("extension_months", self.extension_months)
        assert term is None or isinstance(term, int)
        assert allowance is None or isinstance(allowance, int)
        return None if term is None else term + (allowance or 0)

    def check_can_extend(self, months: int) -> None:
        """Rule: an extension fits in the allowance left, and the contract's end in the calendar."""
        if months > self.extension_left:
            raise ExtensionExceedsAllowance(
                f"contract {self.ref} has {self.extension_left} months of extension left "
                f"(allowance {self.extension_months or 0}, used {self.extended_months}); "
                f"cannot extend by {months}",
                contract=self.ref,
                months=months,
            )
        check_end_in_calendar(self.ref, self.start, self.would_run_for())

    def check_can_correct(self, changes: dict[str, object]) -> None:
        """Rule: a corrected allowance covers the extensions exercised, and the end fits."""
        if "extension_months" in changes:
            allowance = changes["extension_months"]
            assert isinstance(allowance, int)
            if allowance < self.extended_months:
                raise ExtensionExceedsAllowance(
                    f"contract {self.ref} has already been extended by {self.extended_months} "
                    f"months; its allowance cannot be corrected to {allowance}",
                    contract=self.ref,
                )
        start = changes.get("start", self.start)
        assert start is None or isinstance(start, date)
        check_end_in_calendar(self.ref, start, self.would_run_for(**changes))
