"""A package whose names are imported from its modules when first used (PEP 562): importing one light module
of it (``tracker.store.connection``) then does not import the heavy ones (pandas and pyarrow with them)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable


def lazy_exports(namespace: dict, exports: dict[str, tuple[str, ...]]) -> tuple[Callable, Callable]:
    """The package's ``__getattr__`` and ``__dir__``, for its ``globals()`` and its names by module
    (``{"raw": ("RawWrite", ...)}``). A name is imported from its module the first time it is asked for, and
    kept; a module of the package (``store.raw``) is imported as a name too, as the package's own imports
    once did."""
    package = namespace["__name__"]
    module_of = {name: module for module, names in exports.items() for name in names}
    # a name that is also a module's would be the module once anything imports that module directly (the import
    # binds it in the package), and the exported name only until then
    shadowed = sorted(set(module_of) & {m.name for m in pkgutil.iter_modules(namespace.get("__path__", []))})
    if shadowed:
        raise ValueError(f"{package} exports {', '.join(shadowed)}, the name of one of its modules as well")

    def __getattr__(name: str):
        module = module_of.get(name)
        if module is not None:
            value = getattr(importlib.import_module(f"{package}.{module}"), name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        namespace[name] = value  # looked up once
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *module_of})

    return __getattr__, __dir__
