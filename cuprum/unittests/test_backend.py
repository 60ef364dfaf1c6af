"""Backend resolution, unit by unit: parse, probe, resolve, cache."""

from __future__ import annotations

import importlib.metadata
import pathlib
import sys
import typing as typ
import warnings

import pytest

import cuprum
from cuprum import StreamBackend, get_stream_backend, is_rust_available
from cuprum._backend import (
    BACKEND_ENV_VAR,
    NATIVE_DISTRIBUTION,
    NATIVE_MODULE_NAME,
    VALID_BACKEND_VALUES,
    RustProbe,
    _check_rust_available,
    _installed_native_version,
    _parse_backend_value,
    _probe_rust_extension,
    _resolve_backend,
    _select_backend,
)
from cuprum._version import __version__
from tests.helpers.native import StandInNative, install_stand_in, make_native_failing

AVAILABLE = RustProbe(available=True)
ABSENT = RustProbe(available=False, reason="the module is absent")
BROKEN = RustProbe(available=False, reason="undefined symbol: oops", broken=True)


def probe_returning(result: RustProbe) -> typ.Callable[[], RustProbe]:
    calls: list[None] = []

    def probe() -> RustProbe:
        calls.append(None)
        assert len(calls) == 1, "the probe is called at most once"
        return result

    return probe


def probe_that_must_not_run() -> RustProbe:
    msg = "the probe must not be called"
    raise AssertionError(msg)


# --- parsing -----------------------------------------------------------------------


def test_backend_values() -> None:
    assert VALID_BACKEND_VALUES == ("auto", "rust", "python")
    assert BACKEND_ENV_VAR == "CUPRUM_STREAM_BACKEND"


@pytest.mark.parametrize("raw", [None, "", "  ", "\t\n"])
def test_unset_or_blank_means_auto(raw: str | None) -> None:
    assert _parse_backend_value(raw) is StreamBackend.AUTO


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("auto", StreamBackend.AUTO),
        ("AUTO", StreamBackend.AUTO),
        ("rust", StreamBackend.RUST),
        (" Rust ", StreamBackend.RUST),
        ("RUST", StreamBackend.RUST),
        ("python", StreamBackend.PYTHON),
        ("python\n", StreamBackend.PYTHON),
        ("\tPyThOn ", StreamBackend.PYTHON),
    ],
)
def test_values_are_normalised(raw: str, expected: StreamBackend) -> None:
    assert _parse_backend_value(raw) is expected


@pytest.mark.parametrize("raw", ["pyhton", "rust-native", "r", "1", "auto python"])
def test_unknown_value_is_rejected_with_the_valid_ones(raw: str) -> None:
    with pytest.raises(ValueError, match=BACKEND_ENV_VAR) as excinfo:
        _parse_backend_value(raw)

    assert str(excinfo.value) == (
        f"CUPRUM_STREAM_BACKEND={raw!r} is not a valid stream backend; valid "
        "values are 'auto', 'rust', 'python' (case and surrounding whitespace "
        "are ignored). Unset it to let cuprum choose automatically."
    )


def test_unknown_value_is_quoted_as_given() -> None:
    with pytest.raises(ValueError, match=r"CUPRUM_STREAM_BACKEND=' Fast\\n'"):
        _parse_backend_value(" Fast\n")


# --- resolution ------------------------------------------------------------------


def test_python_never_probes() -> None:
    assert _resolve_backend(StreamBackend.PYTHON, probe_that_must_not_run) is StreamBackend.PYTHON


def test_auto_with_extension_available_is_rust() -> None:
    assert _resolve_backend(StreamBackend.AUTO, probe_returning(AVAILABLE)) is StreamBackend.RUST


def test_auto_with_extension_absent_is_python_without_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resolved = _resolve_backend(StreamBackend.AUTO, probe_returning(ABSENT))

    assert resolved is StreamBackend.PYTHON
    assert caught == []


def test_auto_with_extension_broken_is_python_with_a_warning() -> None:
    with pytest.warns(RuntimeWarning) as caught:
        resolved = _resolve_backend(StreamBackend.AUTO, probe_returning(BROKEN))

    assert resolved is StreamBackend.PYTHON
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "cuprum: using the pure-Python stream pump because the native extension "
        "is broken: undefined symbol: oops"
    )


def test_rust_with_extension_available_is_rust() -> None:
    assert _resolve_backend(StreamBackend.RUST, probe_returning(AVAILABLE)) is StreamBackend.RUST


@pytest.mark.parametrize("probe", [ABSENT, BROKEN], ids=["absent", "broken"])
def test_rust_without_extension_raises_import_error(probe: RustProbe) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImportError) as excinfo:
            _resolve_backend(StreamBackend.RUST, probe_returning(probe))

    assert str(excinfo.value) == (
        "CUPRUM_STREAM_BACKEND=rust requires the native extension "
        f"cuprum._rust_backend_native, which is unavailable ({probe.reason}); "
        f'install it with `pip install "cuprum[rust]=={__version__}"` (in a source '
        "checkout, build it with `make develop`, which needs cargo and maturin), or "
        "set CUPRUM_STREAM_BACKEND=auto or python to use the pure-Python pump."
    )
    assert excinfo.value.name == NATIVE_MODULE_NAME


def test_select_reads_the_given_environment(stand_in_native: StandInNative) -> None:
    del stand_in_native
    assert _select_backend({}) is StreamBackend.RUST
    assert _select_backend({BACKEND_ENV_VAR: "python"}) is StreamBackend.PYTHON
    assert _select_backend({BACKEND_ENV_VAR: " rust"}) is StreamBackend.RUST
    with pytest.raises(ValueError, match="valid values"):
        _select_backend({BACKEND_ENV_VAR: "bogus"})


# --- probing the extension ---------------------------------------------------------


@pytest.mark.usefixtures("native_absent")
def test_probe_of_an_absent_extension() -> None:
    assert _probe_rust_extension() == RustProbe(
        available=False,
        reason=f"the module {NATIVE_MODULE_NAME} is absent",
        broken=False,
    )


@pytest.mark.usefixtures("native_broken")
def test_probe_of_an_extension_failing_to_import() -> None:
    probe = _probe_rust_extension()

    assert probe.available is False
    assert probe.broken is True
    assert probe.reason == (
        f"importing {NATIVE_MODULE_NAME} failed: {NATIVE_MODULE_NAME}: "
        "undefined symbol: PyInit_broken (simulated)"
    )


def test_probe_reports_a_missing_dependency_as_broken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_native_failing(
        monkeypatch,
        ModuleNotFoundError(
            "No module named 'cuprum_missing_dependency'", name="cuprum_missing_dependency"
        ),
    )

    probe = _probe_rust_extension()

    assert probe == RustProbe(
        available=False,
        reason=(
            f"importing {NATIVE_MODULE_NAME} failed: No module named 'cuprum_missing_dependency'"
        ),
        broken=True,
    )


def test_probe_of_an_available_extension(stand_in_native: StandInNative) -> None:
    del stand_in_native
    assert _probe_rust_extension() == RustProbe(available=True)


def test_probe_of_an_extension_reporting_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_stand_in(monkeypatch, available=False)

    assert _probe_rust_extension() == RustProbe(
        available=False,
        reason=f"{NATIVE_MODULE_NAME}.is_available() returned False",
        broken=False,
    )


def test_only_a_true_availability_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = install_stand_in(monkeypatch)
    monkeypatch.setattr(stand_in, "is_available", lambda: 1)

    assert _probe_rust_extension() == RustProbe(
        available=False, reason=f"{NATIVE_MODULE_NAME}.is_available() returned 1"
    )


def test_availability_check_that_raises_is_broken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stand_in = install_stand_in(monkeypatch)

    def explode() -> bool:
        msg = "no splice here"
        raise OSError(38, msg)

    monkeypatch.setattr(stand_in, "is_available", explode)

    assert _probe_rust_extension() == RustProbe(
        available=False,
        reason=(f"{NATIVE_MODULE_NAME}.is_available() raised OSError(38, 'no splice here')"),
        broken=True,
    )


# --- cached entry points ------------------------------------------------------------


def test_get_stream_backend_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, stand_in_native: StandInNative
) -> None:
    del stand_in_native
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    assert get_stream_backend() is StreamBackend.PYTHON

    get_stream_backend.cache_clear()
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    assert get_stream_backend() is StreamBackend.RUST

    get_stream_backend.cache_clear()
    monkeypatch.delenv(BACKEND_ENV_VAR)
    assert get_stream_backend() is StreamBackend.RUST


def test_get_stream_backend_is_cached_until_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    assert get_stream_backend() is StreamBackend.PYTHON

    monkeypatch.setenv(BACKEND_ENV_VAR, "not-a-backend")
    assert get_stream_backend() is StreamBackend.PYTHON  # still cached

    get_stream_backend.cache_clear()
    with pytest.raises(ValueError, match="'not-a-backend'"):
        get_stream_backend()


@pytest.mark.usefixtures("native_absent")
def test_get_stream_backend_forced_rust_without_extension(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")

    with pytest.raises(ImportError, match="CUPRUM_STREAM_BACKEND=rust requires"):
        get_stream_backend()


@pytest.mark.usefixtures("native_absent")
def test_get_stream_backend_auto_without_extension(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "auto")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_stream_backend() is StreamBackend.PYTHON


@pytest.mark.usefixtures("native_broken")
def test_get_stream_backend_auto_with_broken_extension_warns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(BACKEND_ENV_VAR, raising=False)

    with pytest.warns(RuntimeWarning, match="native extension is broken"):
        assert get_stream_backend() is StreamBackend.PYTHON


def test_is_rust_available_follows_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    install_stand_in(monkeypatch, available=True)
    assert is_rust_available() is True

    install_stand_in(monkeypatch, available=False)  # clears the probe cache
    assert is_rust_available() is False


@pytest.mark.usefixtures("native_absent")
def test_is_rust_available_without_extension() -> None:
    assert is_rust_available() is False


def test_probe_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = install_stand_in(monkeypatch, available=True)
    assert is_rust_available() is True

    stand_in.available = False
    assert is_rust_available() is True  # cached
    assert _check_rust_available() == RustProbe(available=True)

    _check_rust_available.cache_clear()
    assert is_rust_available() is False


def test_broken_extension_warning_is_attributed_to_the_backend_module(
    native_broken: None,
) -> None:
    """Users filter it by module; so it must come from cuprum._backend."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _resolve_backend(StreamBackend.AUTO, _probe_rust_extension)
    assert [w.category for w in caught] == [RuntimeWarning]
    assert pathlib.Path(caught[0].filename).name == "_backend.py"
    with warnings.catch_warnings(record=True) as filtered:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="cuprum._backend")
        _resolve_backend(StreamBackend.AUTO, _probe_rust_extension)
    assert filtered == []


# --- the installed native distribution's version -----------------------------------
#
# Installed distributions are found through real metadata directories on
# sys.path (the standard importlib.metadata machinery); a directory prepended
# here is found before anything installed in the running environment.

OTHER_VERSION = "9.9.9"
MISMATCH_REASON = (
    f"its version does not match cuprum's: cuprum-rust-backend {OTHER_VERSION} is "
    f"installed but cuprum is {__version__}; install the matching pump with "
    f'`pip install "cuprum-rust-backend=={__version__}"` or uninstall it'
)


def install_native_distribution(
    monkeypatch: pytest.MonkeyPatch, root: pathlib.Path, version: str
) -> None:
    """Record a ``cuprum-rust-backend`` distribution of ``version`` on sys.path."""
    info = root / f"cuprum_rust_backend-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {NATIVE_DISTRIBUTION}\nVersion: {version}\n"
    )
    monkeypatch.syspath_prepend(str(root))


def test_native_distribution_name() -> None:
    assert NATIVE_DISTRIBUTION == "cuprum-rust-backend"


def test_cuprums_version_is_its_installed_distributions() -> None:
    """The probe's reference is the version pip installed cuprum at."""
    assert cuprum.__version__ == __version__ == importlib.metadata.version("cuprum")


def test_installed_native_version_reads_the_distribution_metadata(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    install_native_distribution(monkeypatch, tmp_path, OTHER_VERSION)

    assert _installed_native_version() == OTHER_VERSION


def test_installed_native_version_without_a_distribution_is_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    """A source checkout's `make native` build has no distribution metadata."""
    monkeypatch.setattr(sys, "path", [str(tmp_path)])

    assert _installed_native_version() is None


def test_probe_rejects_a_native_distribution_of_another_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    stand_in = install_stand_in(monkeypatch)

    def must_not_be_asked() -> bool:
        msg = "a mismatched pump must not be called into"
        raise AssertionError(msg)

    monkeypatch.setattr(stand_in, "is_available", must_not_be_asked)
    install_native_distribution(monkeypatch, tmp_path, OTHER_VERSION)

    assert _probe_rust_extension() == RustProbe(
        available=False, reason=MISMATCH_REASON, broken=True
    )


def test_probe_accepts_a_native_distribution_of_cuprums_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    install_stand_in(monkeypatch)
    install_native_distribution(monkeypatch, tmp_path, __version__)

    assert _probe_rust_extension() == RustProbe(available=True)


def test_probe_accepts_an_extension_without_a_distribution(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    install_stand_in(monkeypatch)
    monkeypatch.setattr(sys, "path", [str(tmp_path)])

    assert _probe_rust_extension() == RustProbe(available=True)


def test_auto_with_a_mismatched_pump_warns_and_uses_python(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    install_stand_in(monkeypatch)
    install_native_distribution(monkeypatch, tmp_path, OTHER_VERSION)
    monkeypatch.delenv(BACKEND_ENV_VAR, raising=False)

    with pytest.warns(RuntimeWarning) as caught:
        assert get_stream_backend() is StreamBackend.PYTHON

    assert [str(w.message) for w in caught] == [
        "cuprum: using the pure-Python stream pump because the native extension "
        f"is broken: {MISMATCH_REASON}"
    ]
    assert is_rust_available() is False


def test_forced_rust_with_a_mismatched_pump_raises_import_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    install_stand_in(monkeypatch)
    install_native_distribution(monkeypatch, tmp_path, OTHER_VERSION)
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")

    with pytest.raises(ImportError) as excinfo:
        get_stream_backend()

    message = str(excinfo.value)
    assert message.startswith(
        f"CUPRUM_STREAM_BACKEND=rust requires the native extension {NATIVE_MODULE_NAME}, "
        f"which is unavailable ({MISMATCH_REASON}); "
    )
    assert excinfo.value.name == NATIVE_MODULE_NAME
