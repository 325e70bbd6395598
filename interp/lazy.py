"""Names a package offers but imports only on first use, so that importing the package stays light.

Example:
    >>> namespace = {"__name__": "demo"}
    >>> __getattr__ = lazy_attributes(namespace, {"sqrt": "math", "join": ("os.path", "join")})
    >>> __getattr__("sqrt")(9.0), "sqrt" in namespace
    (3.0, True)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_attributes(namespace: dict, table: dict[str, str | tuple[str, str]]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` for ``namespace`` (a module's ``globals()``).

    ``table`` maps a name to the module that defines it, or to ``(module, attribute)`` where the
    attribute has another name there. The first access imports it and keeps it in ``namespace``,
    so later lookups never reach this function.
    """

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        module, attribute = table[name] if isinstance(table[name], tuple) else (table[name], name)
        value = getattr(importlib.import_module(module), attribute)
        namespace[name] = value
        return value

    return __getattr__
