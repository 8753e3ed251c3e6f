from __future__ import annotations

from typing import Any

from sandbox.models import SandboxState


def sandbox_state() -> SandboxState:
    state, _ = SandboxState.objects.get_or_create(pk=1)
    return state


def sandbox_configure(**changes: Any) -> SandboxState:
    """Change the time scale or fault rates; unknown names are refused, not ignored."""
    fields = {f.name for f in SandboxState._meta.get_fields()} - {"id", "updated_at"}
    unknown = set(changes) - fields
    if unknown:
        raise ValueError(f"unknown sandbox setting(s): {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if name.endswith("_rate") and not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1")
        if name in ("time_scale", "fault_timeout_seconds") and value <= 0:
            raise ValueError(f"{name} must be positive")
    state = sandbox_state()
    for name, value in changes.items():
        setattr(state, name, value)
    state.save()
    return state
