"""The use cases: what Pairtime does when someone asks or clicks."""

from core.scheduling.context import Context, Ports
from core.scheduling.service import Scheduler

__all__ = ["Context", "Ports", "Scheduler"]
