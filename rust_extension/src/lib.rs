//! `cuprum._rust_backend_native`: optional native stream pump for cuprum.
//!
//! The descriptor-copying core lives in [`pump`] and has no Python
//! dependency; this file only adds the PyO3 bindings (argument validation,
//! releasing the GIL and translating errors into Python exceptions).
//!
//! Ownership rule: every descriptor passed in from Python belongs to the
//! caller. Nothing here closes it or changes its flags.

pub mod pump;

use std::io;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::pump::{PumpOptions, DEFAULT_BUFFER_SIZE};

/// Decode bytes as UTF-8, replacing each maximal invalid subpart with
/// U+FFFD, which is exactly what Python's
/// `bytes.decode("utf-8", errors="replace")` does.
pub fn decode_utf8_replace(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `strerror`-style text for an errno, without Rust's " (os error N)" tail.
fn describe_errno(code: i32) -> String {
    let text = io::Error::from_raw_os_error(code).to_string();
    match text.rfind(" (os error ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// Turn an `io::Error` into `OSError(errno, strerror)` so that Python sees
/// the real `errno` (and the usual `OSError` subclass for it).
fn to_py_err(err: io::Error) -> PyErr {
    match err.raw_os_error() {
        Some(code) => PyOSError::new_err((code, describe_errno(code))),
        None => PyOSError::new_err((libc::EIO, err.to_string())),
    }
}

fn check_fd(what: &str, fd: i64) -> PyResult<i32> {
    pump::validate_fd(what, fd).map_err(PyValueError::new_err)
}

fn check_buffer_size(size: i64) -> PyResult<usize> {
    pump::validate_buffer_size(size).map_err(PyValueError::new_err)
}

fn check_cancel_fd(fd: i64) -> PyResult<Option<i32>> {
    pump::validate_cancel_fd(fd).map_err(PyValueError::new_err)
}

/// Report that the native backend is importable and usable.
///
/// Returns
/// -------
/// bool
///     Always ``True``.
#[pyfunction]
fn is_available() -> bool {
    true
}

/// Copy bytes from ``reader_fd`` to ``writer_fd`` until end of file.
///
/// The GIL is released for the whole copy. On Linux ``splice(2)`` is used
/// when the kernel allows it for these descriptors; otherwise (or after the
/// first refusal) a ``read``/``write`` loop is used. Blocking and
/// non-blocking (``O_NONBLOCK``) descriptors are both supported: when a
/// descriptor is not ready the pump waits with ``poll(2)``. ``EINTR`` is
/// retried. Python signal handlers do not run until the pump returns.
///
/// The pump never closes either descriptor and never changes their flags:
/// the caller owns both and must close them.
///
/// The pump can be stopped from another thread through ``cancel_fd``,
/// typically the read end of a pipe: write a byte to the pipe, or close
/// its write end, and the pump returns promptly even if the upstream
/// writer never closes (for example because a grandchild process keeps
/// it open). The pump only polls ``cancel_fd``; it never reads from it or
/// closes it, so one signal stays visible to every pump sharing it.
///
/// Parameters
/// ----------
/// reader_fd : int
///     Descriptor to read from until end of file.
/// writer_fd : int
///     Descriptor to write every byte read to.
/// buffer_size : int, optional
///     Maximum bytes moved per system call, between 1 and 67108864
///     (64 MiB). Defaults to 65536.
/// cancel_fd : int, optional
///     Descriptor whose readability (``POLLIN`` or ``POLLHUP``) cancels
///     the pump, or ``-1`` (the default) for a pump that runs until end of
///     file. It is checked before every read and during every wait, and
///     while it is set no call blocks outside ``poll(2)``, for blocking
///     descriptors too. Cancellation abandons the stream: bytes already
///     read from ``reader_fd`` but not yet written are dropped. If
///     ``cancel_fd`` is readable from the start, nothing is read.
///
/// Returns
/// -------
/// int
///     Number of bytes written to ``writer_fd``. When the downstream end
///     closes early (``EPIPE`` or ``ECONNRESET``) or the pump is cancelled,
///     it stops without raising and returns the bytes delivered up to that
///     point.
///
/// Raises
/// ------
/// ValueError
///     If ``reader_fd`` or ``writer_fd`` is negative, ``cancel_fd`` is
///     below ``-1``, or ``buffer_size`` is out of range.
/// OSError
///     For any other operating-system failure, with the real ``errno``
///     (for example ``EBADF`` for a closed descriptor, ``cancel_fd``
///     included).
#[pyfunction]
// PyO3 would render the negative default as `...`, so spell it out.
#[pyo3(
    signature = (reader_fd, writer_fd, buffer_size = 65536, cancel_fd = -1),
    text_signature = "(reader_fd, writer_fd, buffer_size=65536, cancel_fd=-1)"
)]
fn rust_pump_stream(
    py: Python<'_>,
    reader_fd: i64,
    writer_fd: i64,
    buffer_size: i64,
    cancel_fd: i64,
) -> PyResult<u64> {
    let reader = check_fd("reader_fd", reader_fd)?;
    let writer = check_fd("writer_fd", writer_fd)?;
    let buffer_size = check_buffer_size(buffer_size)?;
    let cancel_fd = check_cancel_fd(cancel_fd)?;
    let options = PumpOptions {
        buffer_size,
        allow_splice: true,
        cancel_fd,
    };
    py.detach(move || pump::pump(reader, writer, options))
        .map(|report| report.bytes)
        .map_err(to_py_err)
}

/// Read ``fd`` to end of file and decode it as UTF-8.
///
/// Invalid byte sequences become U+FFFD exactly as with
/// ``data.decode("utf-8", errors="replace")`` applied to the whole payload.
/// The GIL is released while reading; blocking and non-blocking descriptors
/// are both supported and ``EINTR`` is retried.
///
/// The descriptor is never closed: the caller owns it.
///
/// Parameters
/// ----------
/// fd : int
///     Descriptor to read until end of file.
/// buffer_size : int, optional
///     Bytes requested per ``read`` call, between 1 and 67108864 (64 MiB).
///     Defaults to 65536.
///
/// Returns
/// -------
/// str
///     The decoded text.
///
/// Raises
/// ------
/// ValueError
///     If ``fd`` is negative or ``buffer_size`` is out of range.
/// OSError
///     For any operating-system failure, with the real ``errno``.
#[pyfunction]
#[pyo3(signature = (fd, buffer_size = 65536))]
fn rust_consume_stream(py: Python<'_>, fd: i64, buffer_size: i64) -> PyResult<String> {
    let fd = check_fd("fd", fd)?;
    let buffer_size = check_buffer_size(buffer_size)?;
    py.detach(move || pump::read_to_end(fd, buffer_size).map(|bytes| decode_utf8_replace(&bytes)))
        .map_err(to_py_err)
}

/// Optional native stream pump for cuprum (GIL-free fd-to-fd copying).
#[pymodule]
fn _rust_backend_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(is_available, m)?)?;
    m.add_function(wrap_pyfunction!(rust_pump_stream, m)?)?;
    m.add_function(wrap_pyfunction!(rust_consume_stream, m)?)?;
    m.add("DEFAULT_BUFFER_SIZE", DEFAULT_BUFFER_SIZE)?;
    m.add("MAX_BUFFER_SIZE", pump::MAX_BUFFER_SIZE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_available_says_yes() {
        // Python's backend probe trusts this answer; `false` would hide a
        // working extension.
        assert!(is_available());
    }

    #[test]
    fn describe_errno_strips_rust_suffix() {
        let text = describe_errno(libc::EBADF);
        assert!(!text.contains("os error"), "{text}");
        assert!(text.to_lowercase().contains("bad file"), "{text}");
    }

    #[test]
    fn decode_matches_python_maximal_subpart_rule() {
        // Expected values computed with CPython's
        // bytes.decode("utf-8", "replace").
        let cases: &[(&[u8], &str)] = &[
            (b"plain", "plain"),
            (b"\xe2\x82\xac", "\u{20ac}"),
            (b"\xe2\x82", "\u{fffd}"),
            (b"\xe2\x82A", "\u{fffd}A"),
            (b"\xf0\x80\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xed\xa0\x80", "\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xf4\x90\x80\x80", "\u{fffd}\u{fffd}\u{fffd}\u{fffd}"),
            (b"\xf0\x9f\x98", "\u{fffd}"),
            (b"\xc0\xaf", "\u{fffd}\u{fffd}"),
            (b"\xff\xfe", "\u{fffd}\u{fffd}"),
            (b"a\x80b", "a\u{fffd}b"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_utf8_replace(input), *expected, "input {input:?}");
        }
    }
}
