"""The admin console: server-rendered pages where a program's admins run their tracks,
rules, people, pairs, circles and admins, and read how active each pair is.

Every page is a thin caller of ``core.admin`` use cases: what the console can do, the
``pairtime`` command line can do too, with the same checks and the same audit log.
"""

from adapters.console.app import ConsoleDeps, add_routes

__all__ = ["ConsoleDeps", "add_routes"]
