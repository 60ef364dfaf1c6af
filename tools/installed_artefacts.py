"""Find cuprum's release artefacts in a directory and check what they hold.

The two distributions share the ``cuprum`` package directory, so their
contents must never overlap: the pure wheel and sdist hold no compiled pump,
and the native wheel holds nothing of cuprum's but
``cuprum/_rust_backend_native*`` (the module and its stub).
"""

from __future__ import annotations

import dataclasses
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

PURE_NAME = "cuprum"
NATIVE_NAME = "cuprum_rust_backend"
NATIVE_PREFIX = "cuprum/_rust_backend_native"
EXTENSION_SUFFIXES = (".so", ".pyd")


class ArtefactError(RuntimeError):
    """The artefacts are missing, of mixed versions, or hold the wrong files."""


@dataclasses.dataclass(frozen=True)
class Artefacts:
    """The checked artefacts of one release.

    Parameters
    ----------
    version
        The version every artefact carries.
    sdist
        cuprum's source distribution.
    wheel
        cuprum's pure-Python wheel.
    native_wheels
        The native pump's wheels (one per interpreter and platform).
    native_sdist
        The native pump's source distribution, when present.
    """

    version: str
    sdist: Path
    wheel: Path
    native_wheels: tuple[Path, ...]
    native_sdist: Path | None

    def describe(self) -> str:
        """One line naming every artefact."""
        names = [self.sdist.name, self.wheel.name, *(w.name for w in self.native_wheels)]
        if self.native_sdist is not None:
            names.append(self.native_sdist.name)
        return ", ".join(names)


def name_and_version(path: Path) -> tuple[str, str]:
    """Split a wheel's or sdist's file name into distribution name and version.

    Parameters
    ----------
    path : Path
        A ``.whl`` or ``.tar.gz`` file.

    Returns
    -------
    tuple[str, str]
        The (underscore-normalised) name and the version.
    """
    stem = path.name.removesuffix(".whl").removesuffix(".tar.gz")
    name, _, rest = stem.partition("-")
    return name.replace("-", "_").lower(), rest.split("-")[0]


def _one(found: list[Path], what: str, directory: Path) -> Path:
    if len(found) != 1:
        names = ", ".join(path.name for path in found) or "none"
        msg = f"expected one {what} in {directory}, found: {names}"
        raise ArtefactError(msg)
    return found[0]


def _is_extension(member: str) -> bool:
    return PurePosixPath(member).name.startswith("_rust_backend_native") and any(
        member.endswith(suffix) for suffix in EXTENSION_SUFFIXES
    )


def check_pure_members(members: list[str], artefact: str) -> None:
    """Check that a pure distribution ships cuprum's package, no compiled pump.

    Parameters
    ----------
    members : list[str]
        File names inside the wheel or sdist.
    artefact : str
        Its file name, for messages.

    Raises
    ------
    ArtefactError
        If a compiled pump is included, or ``cuprum/__init__.py`` is not.
    """
    compiled = [member for member in members if _is_extension(member)]
    if compiled:
        msg = f"{artefact} must not contain the compiled pump, found: {', '.join(compiled)}"
        raise ArtefactError(msg)
    if not any(member.endswith("cuprum/__init__.py") for member in members):
        msg = f"{artefact} does not contain cuprum/__init__.py"
        raise ArtefactError(msg)


def check_native_members(members: list[str], version: str, artefact: str) -> None:
    """Check that a native wheel ships only the pump module, stub and metadata.

    Parameters
    ----------
    members : list[str]
        File names inside the wheel.
    version : str
        The release's version (names the ``.dist-info`` directory).
    artefact : str
        Its file name, for messages.

    Raises
    ------
    ArtefactError
        If it ships any other file (``cuprum/__init__.py`` above all) or not
        exactly one compiled module.
    """
    metadata = f"{NATIVE_NAME}-{version}.dist-info/"
    foreign = [
        member
        for member in members
        if not (member.startswith(metadata) or member.startswith(NATIVE_PREFIX))
    ]
    if foreign:
        msg = (
            f"{artefact} must hold only {NATIVE_PREFIX}* and its metadata, "
            f"found: {', '.join(foreign)}"
        )
        raise ArtefactError(msg)
    compiled = [member for member in members if _is_extension(member)]
    if len(compiled) != 1:
        msg = f"{artefact} must hold exactly one compiled pump, found: {compiled or 'none'}"
        raise ArtefactError(msg)


def find_artefacts(directory: Path, expected_version: str | None = None) -> Artefacts:
    """Find and check one release's artefacts in ``directory``.

    Parameters
    ----------
    directory : Path
        Where the sdists and wheels are.
    expected_version : str | None
        The version they must carry (cuprum's, from the checkout); ``None``
        accepts whatever cuprum's wheel carries.

    Returns
    -------
    Artefacts
        The checked artefacts.

    Raises
    ------
    ArtefactError
        If any artefact is missing, duplicated, of another version, or holds
        the wrong files.
    """
    files = sorted(path for path in directory.iterdir() if path.is_file())
    by_name: dict[tuple[str, str], list[Path]] = {}
    for path in files:
        if path.name.endswith(".whl"):
            kind = "wheel"
        elif path.name.endswith(".tar.gz"):
            kind = "sdist"
        else:
            continue
        by_name.setdefault((name_and_version(path)[0], kind), []).append(path)
    wheel = _one(by_name.get((PURE_NAME, "wheel"), []), "cuprum wheel", directory)
    sdist = _one(by_name.get((PURE_NAME, "sdist"), []), "cuprum sdist", directory)
    native_wheels = tuple(by_name.get((NATIVE_NAME, "wheel"), []))
    if not native_wheels:
        msg = f"no {NATIVE_NAME} wheel in {directory}"
        raise ArtefactError(msg)
    native_sdists = by_name.get((NATIVE_NAME, "sdist"), [])
    native_sdist = _one(native_sdists, "native sdist", directory) if native_sdists else None

    version = expected_version or name_and_version(wheel)[1]
    everything = [sdist, wheel, *native_wheels, *native_sdists]
    stray = [path.name for path in everything if name_and_version(path)[1] != version]
    if stray:
        msg = f"artefacts of another version than {version}: {', '.join(stray)}"
        raise ArtefactError(msg)
    if not wheel.name.endswith("-py3-none-any.whl"):
        msg = f"cuprum's wheel must be pure Python (py3-none-any), got {wheel.name}"
        raise ArtefactError(msg)

    with zipfile.ZipFile(wheel) as archive:
        check_pure_members(archive.namelist(), wheel.name)
    with tarfile.open(sdist) as archive:
        check_pure_members(archive.getnames(), sdist.name)
    for native in native_wheels:
        with zipfile.ZipFile(native) as archive:
            check_native_members(archive.namelist(), version, native.name)
    if native_sdist is not None:
        with tarfile.open(native_sdist) as archive:
            shipped = [name for name in archive.getnames() if "/python/cuprum/" in name]
        extra = [name for name in shipped if not name.endswith("_rust_backend_native.pyi")]
        if extra:
            msg = f"{native_sdist.name} would install more than the pump's stub: {extra}"
            raise ArtefactError(msg)
    return Artefacts(version, sdist, wheel, native_wheels, native_sdist)
