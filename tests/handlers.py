"""Commands named as tests name them: by the handler that carries them out, fields in order.

``command("award_contract", ref, cluster, …)`` builds the frozen command that
``OperatingModel.award_contract`` takes, from positional values in the order of the
command's fields, without validating them again (tests give the handler the values
the edge would have produced, and sometimes values it would refuse, to reach a rule).
"""

from __future__ import annotations

from typing import Any

from opmodel import commands
from opmodel.commands import Command

#: The command each handler of :class:`~opmodel.application.OperatingModel` takes.
HANDLED: dict[str, type[Command]] = {
    "form_cluster": commands.FormCluster,
    "designate_lead": commands.DesignateLead,
    "register_department": commands.RegisterDepartment,
    "rename_department": commands.RenameDepartment,
    "record_headcount": commands.RecordHeadcount,
    "join_cluster": commands.JoinCluster,
    "leave_cluster": commands.LeaveCluster,
    "move_department": commands.MoveDepartment,
    "plan_phase": commands.PlanPhase,
    "start_phase": commands.StartPhase,
    "complete_phase": commands.CompletePhase,
    "onboard": commands.OnboardDepartment,
    "tender_contract": commands.TenderContract,
    "award_contract": commands.AwardContract,
    "correct_contract": commands.CorrectContract,
    "extend_contract": commands.ExtendContract,
    "vary_contract": commands.VaryContract,
    "terminate_contract": commands.TerminateContract,
    "propose_decision": commands.ProposeDecision,
    "accept_decision": commands.AcceptDecision,
    "reject_decision": commands.RejectDecision,
    "supersede_decision": commands.SupersedeDecision,
    "record_business_case": commands.RecordBusinessCase,
    "grant_funding": commands.GrantFunding,
    "realise_benefit": commands.RealiseBenefit,
    "rate_assurance": commands.RateAssurance,
}


def command(handler: str, *args: Any) -> Command:
    """The command ``handler`` takes, its fields given in order (a correction: ref, changes)."""
    cls = HANDLED[handler]
    if cls is commands.CorrectContract:
        ref, changes = args
        return cls.model_construct(ref=ref, **changes)
    return cls.model_construct(**dict(zip(cls.model_fields, args, strict=True)))
