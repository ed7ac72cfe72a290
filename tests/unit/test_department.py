"""Departments: registered once, ALBs name a parent, renamed and re-coded, moved atomically."""

from __future__ import annotations

import pytest

from opmodel.application import UnitOfWork
from opmodel.domain import Cluster, Department
from opmodel.errors import (
    AlreadyInCluster,
    DepartmentAlreadyRegistered,
    InvalidInput,
    LeadCannotLeave,
    NotFound,
    NotInCluster,
    ParentRequired,
)
from tests.unit.support import AppModel


class Model(AppModel):
    """The operating model on an in-memory store, driven command by command."""

    # --- given ------------------------------------------------------------

    def given_department(self, code: str, name: str | None = None) -> None:
        self.when(
            "register_department", code, name or f"Department {code}", "ministerial", None, None
        )

    def given_cluster(
        self, name: str, members: tuple[str, ...] = (), lead: str | None = None
    ) -> None:
        self.when("form_cluster", name, 5, None)
        for code in members:
            self.given_department(code)
            self.when("join_cluster", code, name)
        if lead is not None:
            self.when("designate_lead", name, lead)

    # --- then -------------------------------------------------------------

    def department(self, code: str) -> Department:
        return self.app.department(UnitOfWork(self.app), code)

    def cluster(self, name: str) -> Cluster:
        return self.app.repository.get(Cluster.create_id(name))

    def members(self, name: str) -> list[str]:
        return sorted(self.app.repository.get(m).code for m in self.cluster(name).members)

    def lead(self, name: str) -> str | None:
        lead = self.cluster(name).lead
        return None if lead is None else self.app.repository.get(lead).code


@pytest.fixture
def model() -> Model:
    return Model()


# --- registering -------------------------------------------------------------------


def test_registering_a_department_claims_its_code(model: Model) -> None:
    events = model.when(
        "register_department", "DWP", "Department for Work and Pensions", "ministerial", None, 90000
    )

    assert [type(e).__qualname__ for e in events] == [
        "Department.Registered",
        "DepartmentCode.Claimed",
    ]
    department = model.department("DWP")
    assert department.name == "Department for Work and Pensions"
    assert department.kind == "ministerial"
    assert department.headcount == 90000
    assert department.cluster_id is None


def test_a_department_is_registered_once(model: Model) -> None:
    model.given_department("DWP", "Department for Work and Pensions")

    error = model.rejects(
        DepartmentAlreadyRegistered,
        "register_department",
        "DWP",
        "Other",
        "ministerial",
        None,
        None,
    )

    assert error.exit_code == 4
    assert "DWP" in error.message
    assert "Department for Work and Pensions" in error.message
    assert model.department("DWP").name == "Department for Work and Pensions"


def test_an_unregistered_department_is_not_found(model: Model) -> None:
    error = model.rejects(NotFound, "rename_department", "XYZ", "Anything", None)

    assert error.exit_code == 3
    assert "XYZ" in error.message
    assert "register" in error.message


def test_an_arms_length_body_names_its_parent(model: Model) -> None:
    model.given_department("DSIT")

    events = model.when("register_department", "UKSA", "UK Space Agency", "alb", "DSIT", None)

    assert events[0].parent == "DSIT"
    assert events[0].parent_id == model.department("DSIT").id
    assert model.department("UKSA").parent_id == model.department("DSIT").id


def test_an_arms_length_body_without_a_parent_is_rejected(model: Model) -> None:
    error = model.rejects(
        ParentRequired, "register_department", "UKSA", "UK Space Agency", "alb", None, None
    )

    assert error.exit_code == 4
    assert "UKSA" in error.message
    assert "--parent" in error.message


@pytest.mark.parametrize("kind", ["ministerial", "non-ministerial"])
def test_only_an_arms_length_body_has_a_parent(model: Model, kind: str) -> None:
    model.given_department("DSIT")

    error = model.rejects(ParentRequired, "register_department", "ONS", "ONS", kind, "DSIT", None)

    assert error.exit_code == 4
    assert "ONS" in error.message
    assert kind in error.message


def test_the_parent_of_an_arms_length_body_must_be_registered(model: Model) -> None:
    error = model.rejects(
        NotFound, "register_department", "UKSA", "UK Space Agency", "alb", "DSIT", None
    )

    assert error.exit_code == 3
    assert "DSIT" in error.message


# --- renaming and re-coding ---------------------------------------------------------------


def test_renaming_keeps_the_department_and_its_code(model: Model) -> None:
    model.given_department("DLUHC", "Department for Levelling Up, Housing and Communities")
    before = model.department("DLUHC").id

    events = model.when(
        "rename_department", "DLUHC", "Ministry of Housing, Communities and Local Government", None
    )

    assert [type(e).__qualname__ for e in events] == ["Department.Renamed"]
    assert events[0].old_name == "Department for Levelling Up, Housing and Communities"
    department = model.department("DLUHC")
    assert department.id == before
    assert department.name == "Ministry of Housing, Communities and Local Government"


def test_renaming_needs_a_new_name_or_a_new_code(model: Model) -> None:
    model.given_department("DWP")

    error = model.rejects(InvalidInput, "rename_department", "DWP", None, None)

    assert error.exit_code == 2
    assert "DWP" in error.message
    assert "--name" in error.message


def test_re_coding_moves_the_code_and_keeps_the_department(model: Model) -> None:
    model.given_department("DLUHC")
    before = model.department("DLUHC").id

    events = model.when("rename_department", "DLUHC", None, "MHCLG")

    assert [type(e).__qualname__ for e in events] == [
        "Department.Recoded",
        "DepartmentCode.Released",
        "DepartmentCode.Claimed",
    ]
    assert (events[0].old_code, events[0].code) == ("DLUHC", "MHCLG")
    assert model.department("MHCLG").id == before
    assert model.department("MHCLG").code == "MHCLG"


def test_the_old_code_is_then_not_found_and_names_the_new_one(model: Model) -> None:
    model.given_department("DLUHC")
    model.when("rename_department", "DLUHC", None, "MHCLG")

    error = model.rejects(NotFound, "rename_department", "DLUHC", "Anything", None)

    assert error.exit_code == 3
    assert "DLUHC" in error.message
    assert "MHCLG" in error.message


def test_renaming_and_re_coding_together_is_one_change(model: Model) -> None:
    model.given_department("DIT", "Department for International Trade")

    events = model.when("rename_department", "DIT", "Department for Business and Trade", "DBT")

    assert [type(e).__qualname__ for e in events] == [
        "Department.Renamed",
        "Department.Recoded",
        "DepartmentCode.Released",
        "DepartmentCode.Claimed",
    ]
    assert len({e.meta.command_id for e in events}) == 1
    assert model.department("DBT").name == "Department for Business and Trade"


def test_membership_and_leadership_follow_a_re_coded_department(model: Model) -> None:
    model.given_cluster("Matrix", members=("BEIS", "CO"), lead="BEIS")

    model.when("rename_department", "BEIS", None, "DSIT")

    assert model.members("Matrix") == ["CO", "DSIT"]
    assert model.lead("Matrix") == "DSIT"
    error = model.rejects(LeadCannotLeave, "leave_cluster", "DSIT")
    assert "DSIT" in error.message


def test_a_department_cannot_be_re_coded_onto_a_code_in_use(model: Model) -> None:
    model.given_department("DIT")
    model.given_department("DBT")

    error = model.rejects(DepartmentAlreadyRegistered, "rename_department", "DIT", None, "DBT")

    assert error.exit_code == 4
    assert "DIT" in error.message
    assert "DBT" in error.message
    assert model.department("DIT").code == "DIT"


def test_a_rejected_re_code_does_not_rename_either(model: Model) -> None:
    model.given_department("DIT", "Department for International Trade")
    model.given_department("DBT")

    model.rejects(DepartmentAlreadyRegistered, "rename_department", "DIT", "New name", "DBT")

    assert model.department("DIT").name == "Department for International Trade"


def test_a_department_can_be_re_coded_back_to_its_old_code(model: Model) -> None:
    model.given_department("DLUHC")
    model.when("rename_department", "DLUHC", None, "MHCLG")

    events = model.when("rename_department", "MHCLG", None, "DLUHC")

    assert [type(e).__qualname__ for e in events] == [
        "Department.Recoded",
        "DepartmentCode.Released",
        "DepartmentCode.Reclaimed",
    ]
    assert model.department("DLUHC").code == "DLUHC"
    error = model.rejects(NotFound, "rename_department", "MHCLG", "Anything", None)
    assert "DLUHC" in error.message


def test_a_code_given_up_by_a_re_code_can_be_registered_to_a_new_department(model: Model) -> None:
    model.given_department("DIT")
    model.when("rename_department", "DIT", None, "DBT")
    old = model.department("DBT").id

    events = model.when("register_department", "DIT", "A new DIT", "ministerial", None, None)

    assert [type(e).__qualname__ for e in events] == [
        "Department.Registered",
        "DepartmentCode.Reclaimed",
    ]
    assert model.department("DIT").id != old
    assert model.department("DBT").id == old


# --- moving -----------------------------------------------------------------------------


def test_a_move_is_one_change_across_the_department_and_both_clusters(model: Model) -> None:
    model.given_cluster("Matrix", members=("DIT", "CO"), lead="CO")
    model.given_cluster("Unity", members=("HMRC",), lead="HMRC")

    events = model.when("move_department", "DIT", "Unity")

    assert [type(e).__qualname__ for e in events] == [
        "Department.MovedCluster",
        "Cluster.MemberReleased",
        "Cluster.MemberAdmitted",
    ]
    assert len({e.meta.command_id for e in events}) == 1
    assert (events[0].from_cluster, events[0].cluster) == ("Matrix", "Unity")
    assert model.members("Matrix") == ["CO"]
    assert model.members("Unity") == ["DIT", "HMRC"]
    assert model.department("DIT").cluster_id == model.cluster("Unity").id


def test_a_department_in_no_cluster_cannot_move(model: Model) -> None:
    model.given_cluster("Unity")
    model.given_department("DFT")

    error = model.rejects(NotInCluster, "move_department", "DFT", "Unity")

    assert error.exit_code == 4
    assert "DFT" in error.message


def test_a_department_cannot_move_to_the_cluster_it_is_in(model: Model) -> None:
    model.given_cluster("Unity", members=("DFT",))

    error = model.rejects(AlreadyInCluster, "move_department", "DFT", "Unity")

    assert error.exit_code == 4
    assert "DFT" in error.message
    assert "Unity" in error.message


def test_a_department_cannot_move_to_an_unknown_cluster(model: Model) -> None:
    model.given_cluster("Unity", members=("DFT",))

    error = model.rejects(NotFound, "move_department", "DFT", "Nebula")

    assert error.exit_code == 3
    assert "Nebula" in error.message
    assert model.members("Unity") == ["DFT"]


def test_a_lead_that_is_rejected_moving_stays_in_its_cluster(model: Model) -> None:
    model.given_cluster("Matrix", members=("BEIS",), lead="BEIS")
    model.given_cluster("Unity")

    model.rejects(LeadCannotLeave, "move_department", "BEIS", "Unity")

    assert model.department("BEIS").cluster_id == model.cluster("Matrix").id
    assert model.members("Unity") == []


# --- headcount ------------------------------------------------------------------------


def test_a_departments_headcount_is_recorded(model: Model) -> None:
    model.given_department("DWP")

    events = model.when("record_headcount", "DWP", 90000)

    assert [type(e).__qualname__ for e in events] == ["Department.HeadcountRecorded"]
    assert model.department("DWP").headcount == 90000
