"""Clusters: formed once, led by a member, one cluster per department; delivery phases."""

from __future__ import annotations

from datetime import date

import pytest

from opmodel.application import UnitOfWork
from opmodel.domain import Cluster, Department
from opmodel.errors import (
    AlreadyInCluster,
    AlreadyOnboarded,
    ClusterAlreadyFormed,
    InvalidPlannedDates,
    LeadCannotLeave,
    LeadMustBeMember,
    NotFound,
    NotInCluster,
    PhaseAlreadyCompleted,
    PhaseAlreadyStarted,
    PhaseNotInProgress,
    PhaseOutOfOrder,
    PhaseOutOfRange,
    PhaseRuleBreached,
)
from tests.unit.support import DAY, AppModel


class Model(AppModel):
    """The operating model on an in-memory store, driven command by command."""

    # --- given ------------------------------------------------------------

    def given_department(self, code: str) -> None:
        self.when("register_department", code, f"Department {code}", "ministerial", None, None)

    def given_cluster(
        self, name: str, members: tuple[str, ...] = (), lead: str | None = None, phases: int = 5
    ) -> None:
        self.when("form_cluster", name, phases, None)
        for code in members:
            self.given_department(code)
            self.when("join_cluster", code, name)
        if lead is not None:
            self.when("designate_lead", name, lead)

    def given_phases_started(self, cluster: str, *numbers: int) -> None:
        for number in numbers:
            self.when("plan_phase", cluster, number, f"Phase {number}", None, None)
            self.when("start_phase", cluster, number)

    # --- then -------------------------------------------------------------

    def cluster(self, name: str) -> Cluster:
        return self.app.repository.get(Cluster.create_id(name))

    def department(self, code: str) -> Department:
        return self.app.department(UnitOfWork(self.app), code)

    def members(self, name: str) -> list[str]:
        return sorted(self.app.repository.get(m).code for m in self.cluster(name).members)

    def lead(self, name: str) -> str | None:
        lead = self.cluster(name).lead
        return None if lead is None else self.app.repository.get(lead).code


@pytest.fixture
def model() -> Model:
    return Model()


# --- forming ------------------------------------------------------------------


def test_forming_a_cluster_records_its_name_and_phase_count(model: Model) -> None:
    events = model.when("form_cluster", "Synergy", 5, "Oracle cloud ERP")

    assert [type(e).__qualname__ for e in events] == ["Cluster.Formed"]
    assert events[0].name == "Synergy"
    assert events[0].phase_count == 5
    assert events[0].description == "Oracle cloud ERP"
    assert events[0].meta.actor == "tester"
    assert events[0].meta.effective == DAY


def test_a_cluster_is_formed_once(model: Model) -> None:
    model.given_cluster("Synergy")

    error = model.rejects(ClusterAlreadyFormed, "form_cluster", "Synergy", 5, None)

    assert error.exit_code == 4
    assert "Synergy" in error.message


def test_cluster_names_are_unique_ignoring_case(model: Model) -> None:
    model.given_cluster("Synergy")

    error = model.rejects(ClusterAlreadyFormed, "form_cluster", "SYNERGY", 5, None)

    assert error.exit_code == 4
    assert "Synergy" in error.message
    assert "ignoring case" in error.message


def test_a_cluster_is_found_by_its_name_in_any_case(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_department("DWP")

    assert model.names("join_cluster", "DWP", "synergy") == [
        "Department.JoinedCluster",
        "Cluster.MemberAdmitted",
    ]
    assert model.members("Synergy") == ["DWP"]


def test_an_unknown_cluster_is_not_found(model: Model) -> None:
    model.given_department("DWP")

    error = model.rejects(NotFound, "join_cluster", "DWP", "Nebula")

    assert error.exit_code == 3
    assert "Nebula" in error.message


# --- the lead -------------------------------------------------------------------


def test_a_member_can_be_designated_lead(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP", "HO"))

    assert model.names("designate_lead", "Synergy", "DWP") == ["Cluster.LeadDesignated"]
    assert model.lead("Synergy") == "DWP"


def test_the_lead_must_be_a_member(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.given_department("HMRC")

    error = model.rejects(LeadMustBeMember, "designate_lead", "Synergy", "HMRC")

    assert error.exit_code == 4
    assert "HMRC" in error.message
    assert "Synergy" in error.message
    assert model.lead("Synergy") is None


def test_a_member_of_another_cluster_cannot_lead(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",), lead="DWP")
    model.given_cluster("Unity", members=("HMRC",))

    error = model.rejects(LeadMustBeMember, "designate_lead", "Synergy", "HMRC")

    assert "HMRC" in error.message
    assert model.lead("Synergy") == "DWP"


def test_an_unregistered_department_cannot_lead(model: Model) -> None:
    model.given_cluster("Synergy")

    error = model.rejects(NotFound, "designate_lead", "Synergy", "XYZ")

    assert error.exit_code == 3
    assert "XYZ" in error.message


# --- membership -------------------------------------------------------------------


def test_joining_changes_the_department_and_the_cluster_together(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_department("DWP")

    events = model.when("join_cluster", "DWP", "Synergy")

    assert [type(e).__qualname__ for e in events] == [
        "Department.JoinedCluster",
        "Cluster.MemberAdmitted",
    ]
    assert len({e.meta.command_id for e in events}) == 1
    assert model.members("Synergy") == ["DWP"]
    assert model.department("DWP").cluster_id == model.cluster("Synergy").id


def test_a_department_belongs_to_one_cluster_at_a_time(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.given_cluster("Matrix")

    error = model.rejects(AlreadyInCluster, "join_cluster", "DWP", "Matrix")

    assert error.exit_code == 4
    assert "DWP" in error.message
    assert "Synergy" in error.message
    assert "move" in error.message
    assert model.members("Matrix") == []


def test_a_member_cannot_join_its_own_cluster_again(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))

    error = model.rejects(AlreadyInCluster, "join_cluster", "DWP", "Synergy")

    assert "DWP" in error.message
    assert model.members("Synergy") == ["DWP"]


def test_a_member_that_does_not_lead_can_leave(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP", "HO"), lead="DWP")

    assert model.names("leave_cluster", "HO") == [
        "Department.LeftCluster",
        "Cluster.MemberReleased",
    ]
    assert model.members("Synergy") == ["DWP"]
    assert model.department("HO").cluster_id is None


def test_lead_cannot_leave_before_a_successor_is_designated(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP", "HO"), lead="DWP")

    error = model.rejects(LeadCannotLeave, "leave_cluster", "DWP")

    assert error.exit_code == 4
    assert "DWP" in error.message
    assert "Synergy" in error.message
    assert model.members("Synergy") == ["DWP", "HO"]


def test_the_former_lead_can_leave_once_another_lead_is_designated(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP", "HO"), lead="DWP")
    model.when("designate_lead", "Synergy", "HO")

    assert model.names("leave_cluster", "DWP") == [
        "Department.LeftCluster",
        "Cluster.MemberReleased",
    ]
    assert model.members("Synergy") == ["HO"]
    assert model.lead("Synergy") == "HO"


def test_the_lead_cannot_move_away_before_a_successor_is_designated(model: Model) -> None:
    model.given_cluster("Matrix", members=("BEIS", "CO"), lead="BEIS")
    model.given_cluster("Unity")

    error = model.rejects(LeadCannotLeave, "move_department", "BEIS", "Unity")

    assert error.exit_code == 4
    assert "BEIS" in error.message
    assert "Matrix" in error.message
    assert model.members("Matrix") == ["BEIS", "CO"]
    assert model.members("Unity") == []


def test_a_department_in_no_cluster_cannot_leave(model: Model) -> None:
    model.given_department("DWP")

    error = model.rejects(NotInCluster, "leave_cluster", "DWP")

    assert error.exit_code == 4
    assert "DWP" in error.message


# --- delivery phases: planning ---------------------------------------------------------


def test_a_phase_is_planned_with_a_name_and_optional_dates(model: Model) -> None:
    model.given_cluster("Synergy")

    events = model.when(
        "plan_phase", "Synergy", 1, "Mobilise and design", date(2023, 1, 1), date(2024, 8, 30)
    )

    assert [type(e).__qualname__ for e in events] == ["Cluster.PhasePlanned"]
    phase = model.cluster("Synergy").phases[1]
    assert phase.name == "Mobilise and design"
    assert (phase.planned_start, phase.planned_end) == (date(2023, 1, 1), date(2024, 8, 30))


def test_a_phase_may_be_planned_without_dates(model: Model) -> None:
    model.given_cluster("Synergy")

    assert model.names("plan_phase", "Synergy", 2, "Build and test", None, None) == [
        "Cluster.PhasePlanned"
    ]
    assert model.cluster("Synergy").phases[2].planned_start is None


@pytest.mark.parametrize("number", [0, 6, -1])
def test_a_phase_number_is_within_the_clusters_phase_count(model: Model, number: int) -> None:
    model.given_cluster("Synergy")

    error = model.rejects(PhaseOutOfRange, "plan_phase", "Synergy", number, "Extra", None, None)

    assert error.exit_code == 4
    assert "Synergy" in error.message
    assert str(number) in error.message
    assert "5" in error.message


def test_the_phase_count_is_set_when_the_cluster_is_formed(model: Model) -> None:
    model.given_cluster("Defence", phases=3)

    assert model.names("plan_phase", "Defence", 3, "Transformation", None, None) == [
        "Cluster.PhasePlanned"
    ]
    error = model.rejects(PhaseOutOfRange, "plan_phase", "Defence", 4, "Beyond", None, None)
    assert "3 phases" in error.message


def test_a_phase_can_be_re_planned_until_it_starts(model: Model) -> None:
    model.given_cluster("Synergy")
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)

    assert model.names("plan_phase", "Synergy", 1, "Mobilise and design", None, None) == [
        "Cluster.PhasePlanned"
    ]
    assert model.cluster("Synergy").phases[1].name == "Mobilise and design"


def test_a_started_phase_cannot_be_re_planned(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1)

    error = model.rejects(PhaseAlreadyStarted, "plan_phase", "Synergy", 1, "Renamed", None, None)

    assert error.exit_code == 4
    assert "Synergy:1" in error.message
    assert model.cluster("Synergy").phases[1].name == "Phase 1"


def test_a_planned_end_cannot_be_before_the_planned_start(model: Model) -> None:
    model.given_cluster("Synergy")

    error = model.rejects(
        InvalidPlannedDates,
        "plan_phase",
        "Synergy",
        2,
        "Build",
        date(2024, 6, 1),
        date(2024, 5, 31),
    )

    assert error.exit_code == 4
    assert "Synergy:2" in error.message
    assert "2024-05-31" in error.message
    assert 2 not in model.cluster("Synergy").phases


def test_a_phase_may_end_on_the_day_it_starts(model: Model) -> None:
    model.given_cluster("Synergy")

    assert model.names(
        "plan_phase", "Synergy", 2, "Cut-over", date(2024, 6, 1), date(2024, 6, 1)
    ) == ["Cluster.PhasePlanned"]


# --- delivery phases: starting and completing -------------------------------------------


def test_the_first_phase_starts_on_the_effective_date(model: Model) -> None:
    model.given_cluster("Synergy")
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)

    assert model.names("start_phase", "Synergy", 1, on=date(2023, 2, 1)) == ["Cluster.PhaseStarted"]
    assert model.cluster("Synergy").phases[1].started == date(2023, 2, 1)


def test_an_unplanned_phase_cannot_start(model: Model) -> None:
    model.given_cluster("Synergy")

    error = model.rejects(NotFound, "start_phase", "Synergy", 1)

    assert error.exit_code == 3
    assert "Synergy:1" in error.message
    assert "plan" in error.message


def test_phase_k_cannot_start_before_phase_k_minus_1_has_started(model: Model) -> None:
    model.given_cluster("Synergy")
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)
    model.when("plan_phase", "Synergy", 2, "Build", None, None)

    error = model.rejects(PhaseOutOfOrder, "start_phase", "Synergy", 2)

    assert error.exit_code == 4
    assert "Synergy:2" in error.message
    assert "Synergy:1" in error.message


def test_phase_k_can_start_once_phase_k_minus_1_has_started(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1)
    model.when("plan_phase", "Synergy", 2, "Build", None, None)

    assert model.names("start_phase", "Synergy", 2) == ["Cluster.PhaseStarted"]


def test_a_phase_starts_once(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1)

    error = model.rejects(PhaseAlreadyStarted, "start_phase", "Synergy", 1)

    assert "Synergy:1" in error.message
    assert str(DAY) in error.message


def test_phase_k_cannot_start_on_a_date_before_phase_k_minus_1_started(model: Model) -> None:
    model.given_cluster("Synergy")
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)
    model.when("start_phase", "Synergy", 1, on=date(2023, 6, 1))
    model.when("plan_phase", "Synergy", 2, "Build", None, None)

    error = model.rejects(PhaseRuleBreached, "start_phase", "Synergy", 2, on=date(2023, 1, 1))

    assert error.exit_code == 4
    assert "Synergy:2" in error.message


def test_a_started_phase_completes_on_the_effective_date(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1)

    assert model.names("complete_phase", "Synergy", 1, on=date(2024, 8, 30)) == [
        "Cluster.PhaseCompleted"
    ]
    assert model.cluster("Synergy").phases[1].completed == date(2024, 8, 30)


def test_a_phase_that_has_not_started_cannot_complete(model: Model) -> None:
    model.given_cluster("Synergy")
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)

    error = model.rejects(PhaseNotInProgress, "complete_phase", "Synergy", 1)

    assert error.exit_code == 4
    assert "Synergy:1" in error.message
    assert "start" in error.message


def test_a_phase_cannot_complete_on_a_date_before_it_started(model: Model) -> None:
    model.given_cluster("Synergy")
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)
    model.when("start_phase", "Synergy", 1, on=date(2023, 6, 1))

    error = model.rejects(PhaseRuleBreached, "complete_phase", "Synergy", 1, on=date(2023, 5, 1))

    assert error.exit_code == 4
    assert "Synergy:1" in error.message


def test_phase_k_cannot_complete_before_phase_k_minus_1_has_completed(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1, 2)

    error = model.rejects(PhaseOutOfOrder, "complete_phase", "Synergy", 2)

    assert error.exit_code == 4
    assert "Synergy:2" in error.message
    assert "Synergy:1" in error.message


def test_phase_k_completes_once_phase_k_minus_1_has_completed(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1, 2)
    model.when("complete_phase", "Synergy", 1)

    assert model.names("complete_phase", "Synergy", 2) == ["Cluster.PhaseCompleted"]


def test_phase_k_needs_to_have_started_to_complete_even_after_k_minus_1_completed(
    model: Model,
) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1)
    model.when("complete_phase", "Synergy", 1)
    model.when("plan_phase", "Synergy", 2, "Build", None, None)

    error = model.rejects(PhaseNotInProgress, "complete_phase", "Synergy", 2)

    assert "Synergy:2" in error.message


def test_a_phase_completes_once(model: Model) -> None:
    model.given_cluster("Synergy")
    model.given_phases_started("Synergy", 1)
    model.when("complete_phase", "Synergy", 1)

    error = model.rejects(PhaseAlreadyCompleted, "complete_phase", "Synergy", 1)

    assert error.exit_code == 4
    assert "Synergy:1" in error.message


# --- going live (onboarding) -------------------------------------------------------------


def test_a_member_goes_live_in_a_phase_in_progress(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.given_phases_started("Synergy", 1)

    events = model.when("onboard", "Synergy", 1, "DWP")

    assert [type(e).__qualname__ for e in events] == ["Cluster.DepartmentOnboarded"]
    assert events[0].department == "DWP"
    assert events[0].number == 1
    assert model.cluster("Synergy").phases[1].onboarded == [model.department("DWP").id]


def test_a_department_cannot_go_live_in_a_phase_that_has_not_started(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.when("plan_phase", "Synergy", 1, "Mobilise", None, None)

    error = model.rejects(PhaseNotInProgress, "onboard", "Synergy", 1, "DWP")

    assert error.exit_code == 4
    assert "DWP" in error.message
    assert "Synergy:1" in error.message
    assert "not started" in error.message


def test_a_department_cannot_go_live_in_a_completed_phase(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.given_phases_started("Synergy", 1)
    model.when("complete_phase", "Synergy", 1)

    error = model.rejects(PhaseNotInProgress, "onboard", "Synergy", 1, "DWP")

    assert "DWP" in error.message
    assert "completed" in error.message


def test_a_department_cannot_go_live_in_an_unplanned_phase(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))

    error = model.rejects(NotFound, "onboard", "Synergy", 3, "DWP")

    assert "Synergy:3" in error.message


def test_a_department_goes_live_only_in_its_own_cluster(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.given_cluster("Unity", members=("HMRC",))
    model.given_phases_started("Synergy", 1)

    error = model.rejects(NotInCluster, "onboard", "Synergy", 1, "HMRC")

    assert error.exit_code == 4
    assert "HMRC" in error.message
    assert "Synergy" in error.message


def test_a_department_goes_live_once_per_cluster(model: Model) -> None:
    model.given_cluster("Synergy", members=("DWP",))
    model.given_phases_started("Synergy", 1, 2)
    model.when("onboard", "Synergy", 1, "DWP")

    error = model.rejects(AlreadyOnboarded, "onboard", "Synergy", 2, "DWP")

    assert error.exit_code == 4
    assert "DWP" in error.message
    assert "Synergy:1" in error.message
    assert model.cluster("Synergy").phases[2].onboarded == []


def test_a_department_that_moved_can_go_live_again_in_its_new_cluster(model: Model) -> None:
    model.given_cluster("Matrix", members=("DIT", "CO"), lead="CO")
    model.given_cluster("Unity", members=("HMRC",), lead="HMRC")
    model.given_phases_started("Matrix", 1)
    model.given_phases_started("Unity", 1)
    model.when("onboard", "Matrix", 1, "DIT")
    model.when("move_department", "DIT", "Unity")

    assert model.names("onboard", "Unity", 1, "DIT") == ["Cluster.DepartmentOnboarded"]
