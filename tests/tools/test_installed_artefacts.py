"""tools/installed_artefacts.py: the two distributions never overlap."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from tools.installed_artefacts import (
    ArtefactError,
    check_native_members,
    check_pure_members,
    find_artefacts,
    name_and_version,
)

SO = "cuprum/_rust_backend_native.cpython-311-x86_64-linux-gnu.so"
PURE_FILES = ["cuprum/__init__.py", "cuprum/_backend.py", "cuprum-1.2.3.dist-info/METADATA"]
NATIVE_FILES = [
    SO,
    "cuprum/_rust_backend_native.pyi",
    "cuprum_rust_backend-1.2.3.dist-info/METADATA",
    "cuprum_rust_backend-1.2.3.dist-info/RECORD",
]


def write_zip(path: Path, members: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for member in members:
            archive.writestr(member, "x")
    return path


def write_tar(path: Path, members: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            info = tarfile.TarInfo(member)
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
    return path


def release(
    directory: Path,
    *,
    pure: list[str] | None = None,
    native: list[str] | None = None,
    native_version: str = "1.2.3",
    wheel_tag: str = "py3-none-any",
) -> Path:
    write_tar(directory / "cuprum-1.2.3.tar.gz", [f"cuprum-1.2.3/{f}" for f in PURE_FILES])
    write_zip(directory / f"cuprum-1.2.3-{wheel_tag}.whl", PURE_FILES if pure is None else pure)
    write_zip(
        directory / f"cuprum_rust_backend-{native_version}-cp311-cp311-manylinux_2_17_x86_64.whl",
        NATIVE_FILES if native is None else native,
    )
    write_tar(
        directory / "cuprum_rust_backend-1.2.3.tar.gz",
        [
            "cuprum_rust_backend-1.2.3/Cargo.toml",
            "cuprum_rust_backend-1.2.3/python/cuprum/_rust_backend_native.pyi",
        ],
    )
    return directory


def test_a_good_release_is_found(tmp_path: Path) -> None:
    found = find_artefacts(release(tmp_path), "1.2.3")

    assert found.version == "1.2.3"
    assert found.wheel.name == "cuprum-1.2.3-py3-none-any.whl"
    assert [w.name for w in found.native_wheels] == [
        "cuprum_rust_backend-1.2.3-cp311-cp311-manylinux_2_17_x86_64.whl"
    ]
    assert found.native_sdist is not None
    assert found.describe().count(".whl") == 2


def test_names_and_versions_are_read_from_file_names() -> None:
    assert name_and_version(Path("cuprum-0.1.0-py3-none-any.whl")) == ("cuprum", "0.1.0")
    assert name_and_version(Path("cuprum_rust_backend-0.1.0.tar.gz")) == (
        "cuprum_rust_backend",
        "0.1.0",
    )


def test_a_native_wheel_shipping_cuprums_init_is_refused(tmp_path: Path) -> None:
    release(tmp_path, native=[*NATIVE_FILES, "cuprum/__init__.py"])

    with pytest.raises(
        ArtefactError, match=r"must hold only cuprum/_rust_backend_native\* .*cuprum/__init__.py"
    ):
        find_artefacts(tmp_path, "1.2.3")


def test_the_old_top_level_layout_is_refused() -> None:
    members = ["_rust_backend_native/__init__.py", "_rust_backend_native/_rust_backend_native.so"]
    with pytest.raises(ArtefactError, match=r"_rust_backend_native/__init__\.py"):
        check_native_members(members, "1.2.3", "w.whl")


def test_a_native_wheel_without_the_module_is_refused() -> None:
    with pytest.raises(ArtefactError, match="exactly one compiled pump, found: none"):
        check_native_members(NATIVE_FILES[1:], "1.2.3", "w.whl")


def test_a_pure_wheel_holding_the_compiled_pump_is_refused(tmp_path: Path) -> None:
    release(tmp_path, pure=[*PURE_FILES, SO])

    with pytest.raises(ArtefactError, match=f"must not contain the compiled pump, found: {SO}"):
        find_artefacts(tmp_path, "1.2.3")


def test_a_pure_distribution_without_the_package_is_refused() -> None:
    with pytest.raises(ArtefactError, match=r"x.whl does not contain cuprum/__init__.py"):
        check_pure_members(["cuprum-1.2.3.dist-info/METADATA"], "x.whl")


def test_a_platform_wheel_of_cuprum_is_refused(tmp_path: Path) -> None:
    release(tmp_path, wheel_tag="cp311-cp311-linux_x86_64")

    with pytest.raises(ArtefactError, match="must be pure Python"):
        find_artefacts(tmp_path, "1.2.3")


def test_mixed_versions_are_refused(tmp_path: Path) -> None:
    release(
        tmp_path,
        native_version="1.2.4",
        native=[SO, "cuprum_rust_backend-1.2.4.dist-info/METADATA"],
    )

    with pytest.raises(
        ArtefactError, match=r"another version than 1.2.3: cuprum_rust_backend-1.2.4"
    ):
        find_artefacts(tmp_path, "1.2.3")


def test_artefacts_of_another_version_than_the_checkout_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtefactError, match=r"another version than 9\.0\.0"):
        find_artefacts(release(tmp_path), "9.0.0")


def test_missing_artefacts_are_named(tmp_path: Path) -> None:
    release(tmp_path)
    (tmp_path / "cuprum-1.2.3.tar.gz").unlink()
    with pytest.raises(ArtefactError, match=r"expected one cuprum sdist in .*, found: none"):
        find_artefacts(tmp_path, "1.2.3")

    for wheel in tmp_path.glob("cuprum_rust_backend-*.whl"):
        wheel.unlink()
    write_tar(tmp_path / "cuprum-1.2.3.tar.gz", [f"cuprum-1.2.3/{f}" for f in PURE_FILES])
    with pytest.raises(ArtefactError, match="no cuprum_rust_backend wheel"):
        find_artefacts(tmp_path, "1.2.3")


def test_a_native_sdist_that_would_install_more_is_refused(tmp_path: Path) -> None:
    release(tmp_path)
    write_tar(
        tmp_path / "cuprum_rust_backend-1.2.3.tar.gz",
        ["cuprum_rust_backend-1.2.3/python/cuprum/__init__.py"],
    )
    with pytest.raises(ArtefactError, match="more than the pump's stub"):
        find_artefacts(tmp_path, "1.2.3")
