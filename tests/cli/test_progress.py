"""The progress bar of long commands (import, rebuild): drawn once its total is known."""

from __future__ import annotations

from typing import Any

import pytest

from opmodel_cli.render import progress as render


class FakeProgress:
    """What the bar asks of rich's Progress, recorded."""

    def __init__(self) -> None:
        self.started = False
        self.updates: list[dict[str, Any]] = []

    def start(self) -> None:
        self.started = True

    def add_task(self, label: str, **fields: Any) -> int:
        self.fields = fields
        return 1

    def update(self, task: int, **fields: Any) -> None:
        self.updates.append(fields)

    def refresh(self) -> None:
        pass

    def stop(self) -> None:
        pass


def test_the_rate_counts_from_when_the_bar_was_made(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(render.time, "perf_counter", lambda: now[0])
    progress = FakeProgress()
    bar = render._Bar(progress, "importing")  # type: ignore[arg-type]
    bar.advance(5)  # nothing is drawn before the total is known
    assert not progress.started
    now[0] = 104.0  # an import knows its total once it has applied what it read
    bar.start(1000)
    bar.advance(800)
    assert progress.started
    assert progress.fields["total"] == 1000
    assert progress.updates == [{"advance": 800, "rate": "200"}]  # 800 in 4 s, not in 0 s
