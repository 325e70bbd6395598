"""Route colour per grid unit: moved beside the maze task, :mod:`interp.tasks.route_colour` (this name stays for old imports)."""

from interp.tasks.route_colour import PATH_INDEX, UnitReading, read_units, route_amount  # noqa: F401

__all__ = ["PATH_INDEX", "UnitReading", "read_units", "route_amount"]
