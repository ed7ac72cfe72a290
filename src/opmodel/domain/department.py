"""A department or arm's-length body, and the index that finds it by its code.

A department's id never changes; its code can (a machinery-of-government
change), so codes are found through :class:`DepartmentCode`, one small
aggregate per code, which makes "registered once" hold under concurrent
writers and lets an old code say what it became.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.values import Meta
from opmodel.errors import AlreadyInCluster, NotInCluster, ParentRequired

if TYPE_CHECKING:  # clusters are imported only by the commands that touch them
    from opmodel.domain.cluster import Cluster


class Department(Entity):
    """A government department or arm's-length body (ALB)."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    class Registered(Event, Entity.Created):
        class_version = 1
        code: str
        name: str
        kind: str
        parent_id: UUID | None
        parent: str | None
        headcount: int | None

    class Renamed(Event):
        class_version = 1
        old_name: str
        name: str

    class Recoded(Event):
        class_version = 1
        old_code: str
        code: str

    class HeadcountRecorded(Event):
        class_version = 1
        headcount: int

    class JoinedCluster(Event):
        class_version = 1
        cluster_id: UUID
        cluster: str

    class LeftCluster(Event):
        class_version = 1
        cluster_id: UUID
        cluster: str

    class MovedCluster(Event):
        class_version = 1
        from_cluster_id: UUID
        from_cluster: str
        cluster_id: UUID
        cluster: str

    @event(Registered)
    def __init__(
        self,
        code: str,
        name: str,
        kind: str,
        parent_id: UUID | None,
        parent: str | None,
        headcount: int | None,
        meta: Meta,
    ) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.parent_id = parent_id
        self.headcount = headcount
        self.cluster_id: UUID | None = None

    @classmethod
    def register(
        cls,
        code: str,
        name: str,
        kind: str,
        parent: Department | None,
        headcount: int | None,
        meta: Meta,
    ) -> Department:
        """A department or ALB registered under ``code`` (an ALB under its ``parent``)."""
        cls.check_parent_fits_kind(code, kind, parent.code if parent is not None else None)
        return cls(
            code=code,
            name=name,
            kind=kind,
            parent_id=parent.id if parent is not None else None,
            parent=parent.code if parent is not None else None,
            headcount=headcount,
            meta=meta,
        )

    @staticmethod
    def check_parent_fits_kind(code: str, kind: str, parent: str | None) -> None:
        """Rule: an arm's-length body names its parent department; no other kind has one."""
        if kind == "alb" and parent is None:
            raise ParentRequired(
                f"{code} is an arm's-length body: name its parent department with --parent",
                department=code,
            )
        if kind != "alb" and parent is not None:
            raise ParentRequired(
                f"{code} is {kind}: only an arm's-length body (--kind alb) has a parent",
                department=code,
            )

    def rename(self, name: str, meta: Meta) -> None:
        """Give the department a new name (its history stays with it)."""
        self._renamed(old_name=self.name, name=name, meta=meta)

    @event(Renamed)
    def _renamed(self, old_name: str, name: str, meta: Meta) -> None:
        self.name = name

    def recode(self, code: str, meta: Meta) -> None:
        """Give the department a new code (its history and membership stay with it)."""
        self._recoded(old_code=self.code, code=code, meta=meta)

    @event(Recoded)
    def _recoded(self, old_code: str, code: str, meta: Meta) -> None:
        self.code = code

    def record_headcount(self, headcount: int, meta: Meta) -> None:
        """Record the department's headcount."""
        self._headcount_recorded(headcount=headcount, meta=meta)

    @event(HeadcountRecorded)
    def _headcount_recorded(self, headcount: int, meta: Meta) -> None:
        self.headcount = headcount

    def check_not_in_a_cluster(self, cluster: str, current: str | None) -> None:
        """Rule: a department belongs to at most one cluster at a time."""
        if self.cluster_id is not None:
            raise AlreadyInCluster(
                f"department {self.code} is already a member of cluster {current}; "
                f"a department belongs to one cluster at a time: move it instead "
                f"(opmodel department move {self.code} {cluster})",
                department=self.code,
                cluster=current,
            )

    def check_in_a_cluster(self) -> UUID:
        """Rule: leaving or moving needs a current cluster."""
        if self.cluster_id is None:
            raise NotInCluster(
                f"department {self.code} is not a member of any cluster",
                department=self.code,
            )
        return self.cluster_id

    def join(self, cluster_id: UUID, cluster: str, meta: Meta) -> None:
        """Join a cluster; the department must be in none."""
        self.check_not_in_a_cluster(cluster, None)
        self._joined_cluster(cluster_id=cluster_id, cluster=cluster, meta=meta)

    @event(JoinedCluster)
    def _joined_cluster(self, cluster_id: UUID, cluster: str, meta: Meta) -> None:
        self.cluster_id = cluster_id

    def leave(self, cluster: str, meta: Meta) -> None:
        """Leave the current cluster."""
        cluster_id = self.check_in_a_cluster()
        self._left_cluster(cluster_id=cluster_id, cluster=cluster, meta=meta)

    @event(LeftCluster)
    def _left_cluster(self, cluster_id: UUID, cluster: str, meta: Meta) -> None:
        self.cluster_id = None

    def move(self, source: Cluster, target: Cluster, meta: Meta) -> None:
        """Move from the current cluster, ``source``, to ``target``, as one change.

        The clusters' rules are checked here too, so that nothing is raised when one refuses.
        """
        from_cluster_id = self.check_in_a_cluster()
        if from_cluster_id == target.id:
            raise AlreadyInCluster(
                f"department {self.code} is already a member of cluster {target.name}",
                department=self.code,
                cluster=target.name,
            )
        source.check_is_member(self.id, self.code)
        source.check_lead_not_leaving(self.id, self.code)
        target.check_not_member(self.id, self.code)
        self._moved_cluster(
            from_cluster_id=from_cluster_id,
            from_cluster=source.name,
            cluster_id=target.id,
            cluster=target.name,
            meta=meta,
        )

    @event(MovedCluster)
    def _moved_cluster(
        self,
        from_cluster_id: UUID,
        from_cluster: str,
        cluster_id: UUID,
        cluster: str,
        meta: Meta,
    ) -> None:
        self.cluster_id = cluster_id


class DepartmentCode(Entity):
    """Which department a code names now (or what it was re-coded to)."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    class Claimed(Event, Entity.Created):
        class_version = 1
        code: str
        department_id: UUID

    class Reclaimed(Event):
        class_version = 1
        department_id: UUID

    class Released(Event):
        class_version = 1
        recoded_to: str

    @staticmethod
    def create_id(code: str) -> UUID:
        """One index aggregate per code."""
        return natural_id("department-code", code)

    @event(Claimed)
    def __init__(self, code: str, department_id: UUID, meta: Meta) -> None:
        self.code = code
        self.department_id: UUID | None = department_id
        self.recoded_to: str | None = None

    def reclaim(self, department_id: UUID, meta: Meta) -> None:
        """A released code names a department again."""
        self._reclaimed(department_id=department_id, meta=meta)

    @event(Reclaimed)
    def _reclaimed(self, department_id: UUID, meta: Meta) -> None:
        self.department_id = department_id
        self.recoded_to = None

    def release(self, recoded_to: str, meta: Meta) -> None:
        """The department this code named now goes by another code."""
        self._released(recoded_to=recoded_to, meta=meta)

    @event(Released)
    def _released(self, recoded_to: str, meta: Meta) -> None:
        self.department_id = None
        self.recoded_to = recoded_to
