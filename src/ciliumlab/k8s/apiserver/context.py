"""What every handler needs: the lab, the lock around it, the watch hub and the options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .gate import LabGate
from .watch import WatchHub

if TYPE_CHECKING:
    from ...lab import Lab


@dataclass
class ApiContext:
    lab: Lab
    gate: LabGate
    hub: WatchHub
    token: str | None = None
    installed_at: float = 0.0  # when the CRDs were "installed" (the lab's creation time)
    extra: dict[str, Any] = field(default_factory=dict)

    def now(self) -> float:
        return self.lab.clock.now()
