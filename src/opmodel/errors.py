"""Every error opmodel raises on purpose, and the exit code each one maps to.

The tree::

    OpmodelError                      1  internal error (a bug)
    ├── InvalidInput                  2  bad usage or invalid input
    │   └── InvalidImportFile            an import file that cannot be read or validated
    ├── NotFound                      3  unknown cluster, department, contract, phase, decision
    ├── RuleBreached                  4  rejected by a domain rule (SPEC §2)
    │   └── (one subclass per rule, named after the rule: LeadCannotLeave, …)
    ├── ConcurrentChange              5  someone else changed the same thing; safe to retry
    ├── StoreUnavailable              6  store missing, unreachable, misconfigured or read-only
    └── IntegrityFailed               7  the audit chain does not match (``audit verify``)

Each error carries a message written for the person at the terminal: it names
the thing, says what is wrong and, where there is one, what to do next. Rule
errors also carry the ids involved as attributes, for programs.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OpmodelError(Exception):
    """Base of every error opmodel raises on purpose."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, **ids: Any) -> None:
        super().__init__(message)
        self.message = message
        self.ids = ids

    def __str__(self) -> str:
        return self.message


class InvalidInput(OpmodelError):
    """Bad usage or an invalid value (a malformed date, money, code or option)."""

    exit_code = 2


class InvalidImportFile(InvalidInput):
    """An import file that cannot be read, parsed or validated."""


class NotFound(OpmodelError):
    """A thing named by the user does not exist."""

    exit_code = 3


class RuleBreached(OpmodelError):
    """A command was rejected by a rule of the domain; nothing was written."""

    exit_code = 4


class ConcurrentChange(OpmodelError):
    """Another writer changed the same thing first; the command can be retried."""

    exit_code = 5


class StoreUnavailable(OpmodelError):
    """The store is missing, unreachable, misconfigured or not writable."""

    exit_code = 6


class IntegrityFailed(OpmodelError):
    """The stored history does not match its hash chain or a digest."""

    exit_code = 7


# --- rules (exit 4), one class per rule so programs can tell them apart -------


class AlreadyExists(RuleBreached):
    """A thing that can be created once was created again."""


class ClusterAlreadyFormed(AlreadyExists):
    """A cluster name is unique, ignoring case."""


class DepartmentAlreadyRegistered(AlreadyExists):
    """A department code is registered once."""


class ContractAlreadyExists(AlreadyExists):
    """A contract reference is unique."""


class AlreadyImported(AlreadyExists):
    """The same import file was applied before."""


class LeadMustBeMember(RuleBreached):
    """A cluster's lead must be one of its members."""


class AlreadyInCluster(RuleBreached):
    """A department belongs to at most one cluster at a time."""


class NotInCluster(RuleBreached):
    """The department is not a member of any (or of that) cluster."""


class LeadCannotLeave(RuleBreached):
    """The lead cannot leave before another lead is designated."""


class ParentRequired(RuleBreached):
    """An arm's-length body names its parent department; others do not."""


class PhaseRuleBreached(RuleBreached):
    """Base of the delivery-phase rules."""


class PhaseOutOfRange(PhaseRuleBreached):
    """A phase number is between 1 and the cluster's phase count."""


class PhaseAlreadyStarted(PhaseRuleBreached):
    """A started phase cannot be re-planned or started again."""


class PhaseOutOfOrder(PhaseRuleBreached):
    """Phase k starts after k-1 has started and completes after k-1 has completed."""


class PhaseNotInProgress(PhaseRuleBreached):
    """The phase must be started and not yet completed."""


class PhaseAlreadyCompleted(PhaseRuleBreached):
    """A completed phase cannot be completed again."""


class AlreadyOnboarded(PhaseRuleBreached):
    """A department goes live once per cluster."""


class InvalidPlannedDates(PhaseRuleBreached):
    """A phase's planned end is not before its planned start."""


class ContractRuleBreached(RuleBreached):
    """Base of the contract rules."""


class ContractNotAwarded(ContractRuleBreached):
    """Extending, varying or terminating needs an awarded contract."""


class ContractAlreadyAwarded(ContractRuleBreached):
    """A contract is awarded once."""


class ContractTerminated(ContractRuleBreached):
    """A terminated contract cannot be changed again."""


class ExtensionExceedsAllowance(ContractRuleBreached):
    """Extensions exercised never exceed the allowance."""


class BundleMismatch(ContractRuleBreached):
    """Bundled contracts are in the same cluster and each bundled with at most one other."""


class ContractClusterMismatch(ContractRuleBreached):
    """A tendered contract is awarded in the cluster that tendered it."""


class NothingToCorrect(ContractRuleBreached):
    """A correction changes at least one fact."""


class DecisionRuleBreached(RuleBreached):
    """Base of the decision rules."""


class DecisionNotProposed(DecisionRuleBreached):
    """A decision is accepted or rejected only while proposed."""


class DecisionNotAccepted(DecisionRuleBreached):
    """Only an accepted decision supersedes, or is superseded by, another."""


class BusinessCaseOutOfOrder(RuleBreached):
    """Business case stages go SOC, then OBC, then FBC."""


def exit_code_for(error: BaseException) -> int:
    """The SPEC exit code for any exception (1 for anything unexpected)."""
    if isinstance(error, OpmodelError):
        return error.exit_code
    return 1


class ReadModelsBehind(OpmodelError):
    """Exit 8: the command was recorded, but the read models could not be brought up to date.

    Not part of the tree above because nothing failed to be written: the events are
    committed (``outcome`` says which), and ``opmodel projections update`` finishes
    the job.
    """

    exit_code = 8

    def __init__(self, message: str, outcome: Any = None, **ids: Any) -> None:
        super().__init__(message, **ids)
        self.outcome = outcome
