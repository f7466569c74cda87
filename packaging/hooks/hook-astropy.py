"""Replaces pyinstaller-hooks-contrib's astropy hook for the agent executable.

The contributed hook bundles every astropy submodule and data file, including astropy's own test
suites (about 24 MB, and they import pytest, hypothesis, matplotlib, ...). This one bundles the
same minus anything under a `tests` package and minus the matplotlib axes (wcsaxes), which the
agent never draws and which cannot even be listed without matplotlib installed.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata

SKIPPED = ("astropy.visualization.wcsaxes",)


def _wanted(name: str) -> bool:
    if name.startswith(SKIPPED):
        return False
    # setup_package modules are build-time files (they import setuptools).
    return ".tests" not in name and not name.endswith(("conftest", "setup_package"))


hiddenimports = collect_submodules("astropy", filter=_wanted)
hiddenimports += ["numpy.lib.recfunctions"]  # imported from astropy's Cython code

_no_tests = [
    "**/tests/**",
    "**/tests",
    "**/conftest.py",
    "**/setup_package.py",
    "visualization/wcsaxes/**",
]
datas = collect_data_files("astropy", excludes=_no_tests)
# The unit and coordinate parsers load their ply tables as files, not as modules.
datas += [
    (path, target)
    for path, target in collect_data_files("astropy", include_py_files=True, excludes=_no_tests)
    if path.endswith(("_parsetab.py", "_lextab.py"))
]
# astropy reads its own and numpy's version from the distribution metadata.
datas += copy_metadata("astropy") + copy_metadata("numpy")
