"""Running a program: its roster (people, mentoring pairs, circles), its admins and its
rules. ``pairtime`` commands call these use cases; an admin console calls the same."""

from core.admin.ports import AdminPorts

__all__ = ["AdminPorts"]
