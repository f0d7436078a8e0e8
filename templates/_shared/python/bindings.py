"""Credentials from servicebinding.io bindings, which TAP mounts for the Workload's service claims."""

from __future__ import annotations

from pyservicebinding import binding


def find_binding(binding_type: str) -> dict[str, str] | None:
    """The first binding of `binding_type` under $SERVICE_BINDING_ROOT, or None when there is none."""
    try:
        found = binding.ServiceBinding().bindings(binding_type)
    except binding.ServiceBindingRootMissingError:
        return None  # not running with bindings (local development, tests): callers fall back to env
    except OSError:
        return None  # SERVICE_BINDING_ROOT names a folder that does not exist
    return found[0] if found else None
