"""tracker.store and tracker.ingest import their modules when a name is first used (tracker/lazy.py), so that
`tracker report` and the store's readers start without pandas and pyarrow (docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tracker.ingest
import tracker.store


@pytest.mark.parametrize("package", [tracker.store, tracker.ingest], ids=lambda p: p.__name__)
def test_every_name_resolves_and_a_module_is_an_attribute(package):
    for name in package.__all__:
        value = getattr(package, name)
        assert getattr(value, "__module__", package.__name__).startswith(package.__name__) or not callable(value)
    assert sorted(package.__all__) == sorted(n for names in package._EXPORTS.values() for n in names)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018
    assert package.options if package is tracker.ingest else package.raw  # a module, as the old imports made it


@pytest.mark.parametrize(
    "module", ["tracker.store.connection", "tracker.store.basics", "tracker.ingest.options", "tracker.cli.commands"]
)
def test_a_light_module_loads_neither_pandas_nor_pyarrow(module):
    code = f"import sys, {module}; print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_name_exported_by_a_package_is_never_one_of_its_modules(tmp_path, monkeypatch):
    """The module imported directly would bind its name in the package, where the export then gave the module
    (tracker.ingest once exported the function ``overlaps`` of its module ``overlaps``): refused at import."""
    from tracker.lazy import lazy_exports

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "found.py").write_text("def found(): ...\n")
    (package / "other.py").write_text("def other(): ...\n")
    with pytest.raises(ValueError, match="pkg exports found, the name of one of its modules"):
        lazy_exports({"__name__": "pkg", "__path__": [str(package)]}, {"found": ("found",), "other": ("helper",)})
    lazy_exports({"__name__": "pkg", "__path__": [str(package)]}, {"found": ("find",), "other": ("helper",)})
    from tracker.ingest import overlaps  # the module, whatever was imported before

    assert overlaps.__name__ == "tracker.ingest.overlaps"
