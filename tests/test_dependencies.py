"""The environment is exactly requirements.lock, and Rasa is never older than 3.6.21.

Rasa 3.6.21 fixes the remote-model-loading vulnerability, so the floor is checked where it can slip:
the pin in pyproject.toml, the lock, and what is really installed. A package installed by hand, or an
environment built some other way than `make install`, fails here instead of drifting unnoticed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import metadata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from paths import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
SAFE_RASA = Version("3.6.21")


@dataclass(frozen=True)
class LockedRequirement:
    name: str
    version: str
    hashes: tuple[str, ...]
    marker: Marker | None


def read_lock(text: str) -> list[LockedRequirement]:
    """Parses pip's hash-checking format: `name==version \\` followed by `--hash=...` lines."""
    entries: list[LockedRequirement] = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"requirements.lock has an option line {line!r}: pins only"
        spec, *options = line.split(" --")
        requirement = Requirement(spec.strip())
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==" and "*" not in specifiers[0].version, (
            f"{spec!r} in requirements.lock is not pinned to one exact version"
        )
        hashes = tuple(option.split("=", 1)[1].strip() for option in options if option.startswith("hash="))
        entries.append(
            LockedRequirement(canonicalize_name(requirement.name), specifiers[0].version, hashes, requirement.marker)
        )
    return entries


def project_name() -> str:
    return canonicalize_name(tomllib.loads(PYPROJECT.read_text())["project"]["name"])


def rasa_requirement() -> Requirement:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    matches = [Requirement(dependency) for dependency in dependencies]
    matches = [requirement for requirement in matches if canonicalize_name(requirement.name) == "rasa"]
    assert len(matches) == 1, f"pyproject.toml should name rasa once among its dependencies, not {len(matches)} times"
    return matches[0]


def floor_of(specifiers: SpecifierSet) -> Version | None:
    """The highest lower bound any one clause sets: the whole set, an intersection, admits nothing below it.

    ">3.6.20" still admits 3.6.20.post1 and "==3.6.*" admits 3.6.0, so their bounds are below 3.6.21.
    """
    bounded = [s for s in specifiers if s.operator in ("==", "===", ">=", "~=", ">") and not s.version.endswith(".*")]
    return max((Version(specifier.version) for specifier in bounded), default=None)


def installed_distributions() -> dict[str, str]:
    """Name -> version of every distribution importable here, the project itself aside."""
    found: dict[str, set[str]] = {}
    for distribution in metadata.distributions():
        found.setdefault(canonicalize_name(distribution.metadata["Name"]), set()).add(distribution.version)
    found.pop(project_name(), None)
    duplicated = {name: versions for name, versions in found.items() if len(versions) > 1}
    assert not duplicated, f"installed twice, at different versions: {duplicated}"
    return {name: versions.pop() for name, versions in found.items()}


@pytest.fixture(scope="module")
def lock() -> list[LockedRequirement]:
    return read_lock(LOCK.read_text())


def test_installed_rasa_has_the_remote_model_loading_fix() -> None:
    assert Version(metadata.version("rasa")) >= SAFE_RASA


def test_pyproject_admits_no_rasa_older_than_3_6_21() -> None:
    floor = floor_of(rasa_requirement().specifier)
    assert floor is not None and floor >= SAFE_RASA, (
        f"pyproject.toml's {rasa_requirement()} would admit a Rasa older than {SAFE_RASA}"
    )


OLDER_RASA = (
    st.one_of(
        st.tuples(st.integers(0, 3), st.integers(0, 6), st.integers(0, 40)).map(lambda v: f"{v[0]}.{v[1]}.{v[2]}"),
        st.tuples(st.integers(0, 20), st.sampled_from(["", ".post1", "rc1", "a2", ".dev0", "+local"])).map(
            lambda v: f"3.6.{v[0]}{v[1]}"
        ),
        st.sampled_from(["3.6.20.post1", "3.6.21rc1", "3.6.21a2", "3.6.21.dev0"]),
    )
    .map(Version)
    .filter(lambda version: version < SAFE_RASA)
)


@given(OLDER_RASA)
def test_pyproject_rasa_requirement_rejects_older_releases(version: Version) -> None:
    """Every release below 3.6.21, pre-releases and post-releases too, is refused by the requirement as written."""
    assert not rasa_requirement().specifier.contains(version, prereleases=True)


def test_floor_of_catches_loose_pins() -> None:
    """The floor check itself: loosened pins that would let an old Rasa in are seen as such."""
    for loose in ("", ">=3.6", "==3.6.*", ">3.6.20", "<4", "~=3.6", "!=3.6.20,>=3.5"):
        floor = floor_of(SpecifierSet(loose))
        assert floor is None or floor < SAFE_RASA, loose
    for safe in ("==3.6.21", ">=3.6.21,<3.7", "~=3.6.21", "==3.6.22"):
        assert floor_of(SpecifierSet(safe)) >= SAFE_RASA, safe


def test_lock_pins_a_safe_rasa(lock: list[LockedRequirement]) -> None:
    versions = [Version(entry.version) for entry in lock if entry.name == "rasa"]
    assert versions and all(version >= SAFE_RASA for version in versions)


def test_every_locked_requirement_carries_a_hash(lock: list[LockedRequirement]) -> None:
    assert len(lock) > 100, "requirements.lock should hold the whole dependency tree"
    unhashed = [entry.name for entry in lock if not entry.hashes]
    assert not unhashed, f"no --hash in requirements.lock for {unhashed}"
    malformed = [value for entry in lock for value in entry.hashes if not re.fullmatch(r"sha256:[0-9a-f]{64}", value)]
    assert not malformed, f"hashes in requirements.lock that are not sha256 digests: {malformed[:5]}"


def test_lock_includes_the_installers_own_tools(lock: list[LockedRequirement]) -> None:
    """`make install` fetches nothing unpinned: pip and the build tools come from the lock too."""
    assert {"pip", "setuptools", "wheel"} <= {entry.name for entry in lock}


def test_lock_is_up_to_date_with_pyproject(lock: list[LockedRequirement]) -> None:
    """A dependency added to or re-pinned in pyproject.toml without `make lock` fails here, not at import time."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    wanted = [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pinned = {entry.name: Version(entry.version) for entry in lock}
    stale = [
        str(requirement)
        for requirement in wanted
        if canonicalize_name(requirement.name) not in pinned
        or not requirement.specifier.contains(pinned[canonicalize_name(requirement.name)], prereleases=True)
    ]
    assert not stale, f"pyproject.toml asks for {stale}, which requirements.lock does not pin: run make lock"


def test_every_installed_distribution_is_pinned_in_the_lock(lock: list[LockedRequirement]) -> None:
    pinned = {entry.name: entry.version for entry in lock}
    installed = installed_distributions()
    not_locked = sorted(f"{name}=={version}" for name, version in installed.items() if name not in pinned)
    assert not not_locked, f"installed but not in requirements.lock (installed by hand?): {not_locked}"
    drifted = sorted(
        f"{name}: installed {version}, locked {pinned[name]}"
        for name, version in installed.items()
        if Version(version) != Version(pinned[name])
    )
    assert not drifted, f"installed at another version than requirements.lock pins: {drifted}"


def test_every_locked_requirement_is_installed(lock: list[LockedRequirement]) -> None:
    installed = installed_distributions()
    missing = sorted(
        f"{entry.name}=={entry.version}"
        for entry in lock
        if (entry.marker is None or entry.marker.evaluate()) and entry.name not in installed
    )
    assert not missing, f"in requirements.lock but not installed (run make install): {missing}"


def test_read_lock_refuses_unpinned_lines() -> None:
    """The parser the checks above rely on does not wave a loose or unhashed line through."""
    digest = "--hash=sha256:" + "0" * 64
    parsed = read_lock(f"# header\nRasa==3.6.21 \\\n    {digest}\n    # via x\nsix==1.17.0\n")
    assert [(entry.name, entry.version, len(entry.hashes)) for entry in parsed] == [
        ("rasa", "3.6.21", 1),
        ("six", "1.17.0", 0),
    ]
    for loose in (f"rasa>=3.6 \\\n    {digest}", f"rasa==3.6.* \\\n    {digest}", "--index-url http://x/simple"):
        with pytest.raises(AssertionError):
            read_lock(loose)
