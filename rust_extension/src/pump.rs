//! Pure-Rust core of the stream pump: no Python involved.
//!
//! Everything here works on raw file descriptors that the *caller owns*.
//! No function in this module ever closes, duplicates or changes the flags of
//! a caller's descriptor. The only descriptors closed here are the ones this
//! module creates itself (the intermediate splice pipe), and those are held in
//! [`OwnedFd`] so they are closed exactly once, on every exit path.
//!
//! Descriptors may be blocking or non-blocking. When an operation reports
//! `EAGAIN`/`EWOULDBLOCK` the pump waits with `poll(2)` (`POLLIN` for the
//! reader, `POLLOUT` for the writer) and retries. `EINTR` is always retried.
//! `EPIPE` and `ECONNRESET` from the writer mean "downstream closed": the pump
//! stops and reports the bytes delivered so far instead of an error.

use std::io;
use std::os::fd::RawFd;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Default chunk size used by the Python bindings.
pub const DEFAULT_BUFFER_SIZE: usize = 64 * 1024;
/// Smallest accepted chunk size.
pub const MIN_BUFFER_SIZE: usize = 1;
/// Largest accepted chunk size (64 MiB).
pub const MAX_BUFFER_SIZE: usize = 64 * 1024 * 1024;

/// Tuning knobs for [`pump`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PumpOptions {
    /// Maximum number of bytes moved per system call.
    pub buffer_size: usize,
    /// Try `splice(2)` first (Linux only). When `false` the portable
    /// `read`/`write` loop is used from the start.
    pub allow_splice: bool,
}

impl Default for PumpOptions {
    fn default() -> Self {
        Self {
            buffer_size: DEFAULT_BUFFER_SIZE,
            allow_splice: true,
        }
    }
}

/// What a finished pump did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PumpReport {
    /// Total bytes written to the writer.
    pub bytes: u64,
    /// Of [`PumpReport::bytes`], how many were delivered by `splice(2)`.
    pub spliced_bytes: u64,
    /// `true` when the portable `read`/`write` loop was used at any point.
    pub used_read_write: bool,
    /// `true` when the pump stopped because the writer reported `EPIPE` or
    /// `ECONNRESET` rather than because the reader reached end of file.
    pub downstream_closed: bool,
}

/// Check a caller-supplied chunk size.
///
/// # Errors
///
/// Returns a human-readable message when `size` is outside
/// `MIN_BUFFER_SIZE..=MAX_BUFFER_SIZE`.
pub fn validate_buffer_size(size: i64) -> Result<usize, String> {
    match usize::try_from(size) {
        Ok(value) if (MIN_BUFFER_SIZE..=MAX_BUFFER_SIZE).contains(&value) => Ok(value),
        _ => Err(format!(
            "buffer_size must be between {MIN_BUFFER_SIZE} and {MAX_BUFFER_SIZE} bytes \
             (64 MiB), got {size}"
        )),
    }
}

/// Check a caller-supplied file descriptor number.
///
/// # Errors
///
/// Returns a human-readable message naming `what` when `fd` is negative or
/// does not fit in a C `int`.
pub fn validate_fd(what: &str, fd: i64) -> Result<RawFd, String> {
    if fd < 0 {
        return Err(format!(
            "{what} must be a non-negative file descriptor, got {fd}"
        ));
    }
    RawFd::try_from(fd).map_err(|_| {
        format!(
            "{what} must be a non-negative file descriptor no larger than {}, got {fd}",
            RawFd::MAX
        )
    })
}

fn errno_of(err: &io::Error) -> i32 {
    err.raw_os_error().unwrap_or(0)
}

fn is_would_block(err: &io::Error) -> bool {
    let code = errno_of(err);
    code == libc::EAGAIN || code == libc::EWOULDBLOCK
}

fn is_interrupted(err: &io::Error) -> bool {
    errno_of(err) == libc::EINTR
}

/// `EPIPE`/`ECONNRESET` on the writer: the consumer went away.
fn is_downstream_closed(err: &io::Error) -> bool {
    let code = errno_of(err);
    code == libc::EPIPE || code == libc::ECONNRESET
}

/// Block until `fd` reports any of `events` (or an error/hang-up condition).
///
/// `POLLHUP`/`POLLERR` are returned as "ready": the following read or write
/// reports the real outcome (EOF, `EPIPE`, ...). `POLLNVAL` becomes `EBADF`.
fn wait_for(fd: RawFd, events: libc::c_short) -> io::Result<()> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        // SAFETY: `pfd` is a valid, exclusively borrowed pollfd array of length 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if is_interrupted(&err) {
                continue;
            }
            return Err(err);
        }
        if rc == 0 {
            continue;
        }
        if pfd.revents & libc::POLLNVAL != 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        return Ok(());
    }
}

fn wait_readable(fd: RawFd) -> io::Result<()> {
    wait_for(fd, libc::POLLIN)
}

fn wait_writable(fd: RawFd) -> io::Result<()> {
    wait_for(fd, libc::POLLOUT)
}

/// One successful `read(2)`: retries `EINTR`, waits out `EAGAIN`.
/// Returns `0` at end of file.
fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        let rc = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if rc >= 0 {
            return Ok(rc.unsigned_abs());
        }
        let err = io::Error::last_os_error();
        if is_interrupted(&err) {
            continue;
        }
        if is_would_block(&err) {
            wait_readable(fd)?;
            continue;
        }
        return Err(err);
    }
}

/// Result of [`write_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteAll {
    /// Every byte was written.
    Complete,
    /// The writer reported `EPIPE`/`ECONNRESET` after `written` bytes.
    Closed { written: usize },
}

/// Write all of `data`, retrying `EINTR`, waiting out `EAGAIN` and
/// reporting a closed downstream as [`WriteAll::Closed`].
fn write_all(fd: RawFd, data: &[u8]) -> io::Result<WriteAll> {
    let mut written = 0usize;
    while written < data.len() {
        let rest = &data[written..];
        // SAFETY: `rest` is valid for reads of `rest.len()` bytes.
        let rc = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if rc >= 0 {
            written += rc.unsigned_abs();
            continue;
        }
        let err = io::Error::last_os_error();
        if is_interrupted(&err) {
            continue;
        }
        if is_would_block(&err) {
            wait_writable(fd)?;
            continue;
        }
        if is_downstream_closed(&err) {
            return Ok(WriteAll::Closed { written });
        }
        return Err(err);
    }
    Ok(WriteAll::Complete)
}

/// How a pumping phase ended.
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reader reached EOF or downstream closed: the pump is finished.
    Finished,
    /// `splice(2)` was refused; continue with the `read`/`write` loop.
    /// Every byte taken from the reader so far has been delivered.
    FallBack,
}

/// The portable loop: `read` into a buffer, `write` it all out.
fn copy_read_write(
    reader: RawFd,
    writer: RawFd,
    buffer_size: usize,
    report: &mut PumpReport,
) -> io::Result<()> {
    report.used_read_write = true;
    let mut buf = vec![0u8; buffer_size];
    loop {
        let n = read_some(reader, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        match write_all(writer, &buf[..n])? {
            WriteAll::Complete => report.bytes += n as u64,
            WriteAll::Closed { written } => {
                report.bytes += written as u64;
                report.downstream_closed = true;
                return Ok(());
            }
        }
    }
}

/// Copy every byte from `reader` to `writer` until `reader` reaches EOF.
///
/// Neither descriptor is closed, and their flags are left untouched. On Linux
/// `splice(2)` is tried first (directly when either end is a pipe, otherwise
/// through a private intermediate pipe); if the kernel refuses it for these
/// descriptors the pump switches, once and for good, to a `read`/`write` loop
/// without losing or duplicating bytes.
///
/// A writer that fails with `EPIPE` or `ECONNRESET` ends the pump normally
/// with [`PumpReport::downstream_closed`] set.
///
/// # Errors
///
/// Any other operating-system error (for example `EBADF` for a closed
/// descriptor) is returned as-is. Bytes moved before such an error are not
/// reported.
pub fn pump(reader: RawFd, writer: RawFd, options: PumpOptions) -> io::Result<PumpReport> {
    let buffer_size = options.buffer_size.clamp(MIN_BUFFER_SIZE, MAX_BUFFER_SIZE);
    let mut report = PumpReport::default();

    #[cfg(target_os = "linux")]
    if options.allow_splice
        && splice::pump_splice(reader, writer, buffer_size, &mut report)? == Phase::Finished
    {
        return Ok(report);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = options.allow_splice;

    copy_read_write(reader, writer, buffer_size, &mut report)?;
    Ok(report)
}

/// Read `fd` to end of file and return every byte. Does not close `fd`.
///
/// # Errors
///
/// Returns the operating-system error of a failed `read(2)` or `poll(2)`.
pub fn read_to_end(fd: RawFd, buffer_size: usize) -> io::Result<Vec<u8>> {
    let chunk = buffer_size.clamp(MIN_BUFFER_SIZE, MAX_BUFFER_SIZE);
    let mut out = Vec::new();
    loop {
        let start = out.len();
        out.resize(start + chunk, 0);
        let n = match read_some(fd, &mut out[start..]) {
            Ok(n) => n,
            Err(err) => {
                out.truncate(start);
                return Err(err);
            }
        };
        out.truncate(start + n);
        if n == 0 {
            out.shrink_to_fit();
            return Ok(out);
        }
    }
}

#[cfg(target_os = "linux")]
mod splice {
    use super::*;

    /// Errors for which `splice(2)` is considered unsupported for this pair
    /// of descriptors. `EBADF` is included because splice also uses it for
    /// "wrong kind of file"; a genuinely bad descriptor then fails again in
    /// the `read`/`write` loop, which reports the real error.
    fn is_splice_refused(err: &io::Error) -> bool {
        let code = errno_of(err);
        code == libc::EINVAL
            || code == libc::ENOSYS
            || code == libc::EBADF
            || code == libc::EOPNOTSUPP
            || code == libc::EXDEV
            || code == libc::ESPIPE
    }

    fn is_pipe(fd: RawFd) -> bool {
        // SAFETY: an all-zero `stat` is a valid value to be overwritten.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid out-pointer; `fd` is only inspected.
        let rc = unsafe { libc::fstat(fd, &mut st) };
        rc == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO
    }

    /// A single raw `splice(2)` call (no retries).
    fn splice_raw(fd_in: RawFd, fd_out: RawFd, len: usize) -> io::Result<usize> {
        // SAFETY: null offsets mean "use and update the file positions";
        // no memory is passed to the kernel.
        let rc = unsafe {
            libc::splice(
                fd_in,
                std::ptr::null_mut(),
                fd_out,
                std::ptr::null_mut(),
                len,
                libc::SPLICE_F_MOVE,
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc.unsigned_abs())
        }
    }

    fn make_pipe(capacity_hint: usize) -> io::Result<(OwnedFd, OwnedFd)> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` is a valid out-array of two ints.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded, so both descriptors are fresh and owned
        // by nobody else; OwnedFd closes each exactly once.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        if let Ok(hint) = libc::c_int::try_from(capacity_hint) {
            // Best effort: a larger pipe means fewer syscalls. Failure
            // (e.g. above /proc/sys/fs/pipe-max-size) is harmless.
            // SAFETY: plain fcntl on a descriptor we own.
            unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETPIPE_SZ, hint) };
        }
        Ok((read_end, write_end))
    }

    /// Try the zero-copy path. Returns [`Phase::FallBack`] when the kernel
    /// refuses to splice these descriptors, with all bytes accounted for.
    pub(super) fn pump_splice(
        reader: RawFd,
        writer: RawFd,
        buffer_size: usize,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        let writer_is_pipe = is_pipe(writer);
        if writer_is_pipe || is_pipe(reader) {
            direct(reader, writer, writer_is_pipe, buffer_size, report)
        } else {
            via_pipe(reader, writer, buffer_size, report)
        }
    }

    /// One end is a pipe: splice straight from `reader` to `writer`.
    ///
    /// A failed splice moves nothing, so falling back is always lossless.
    /// `EPIPE` can only come from the writer; `ECONNRESET` only from a
    /// socket, which must be the writer when the writer is not the pipe
    /// (when the writer *is* the pipe, a reset belongs to the reader and is
    /// a real error).
    fn direct(
        reader: RawFd,
        writer: RawFd,
        writer_is_pipe: bool,
        buffer_size: usize,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        loop {
            match splice_raw(reader, writer, buffer_size) {
                Ok(0) => return Ok(Phase::Finished),
                Ok(n) => {
                    report.bytes += n as u64;
                    report.spliced_bytes += n as u64;
                }
                Err(err) if is_interrupted(&err) => {}
                Err(err) if is_would_block(&err) => {
                    // Either side may be the one that is not ready. Waiting
                    // for both in turn never spins: each wait blocks until
                    // that side is ready (or has hung up / errored).
                    wait_readable(reader)?;
                    wait_writable(writer)?;
                }
                Err(err)
                    if errno_of(&err) == libc::EPIPE
                        || (errno_of(&err) == libc::ECONNRESET && !writer_is_pipe) =>
                {
                    report.downstream_closed = true;
                    return Ok(Phase::Finished);
                }
                Err(err) if is_splice_refused(&err) => return Ok(Phase::FallBack),
                Err(err) => return Err(err),
            }
        }
    }

    /// Neither end is a pipe: splice `reader` -> private pipe -> `writer`.
    ///
    /// The private pipe is blocking and always completely drained before it
    /// is refilled, so operations on it never wait on the pipe itself; any
    /// `EAGAIN` therefore comes from the caller's descriptor being spliced.
    fn via_pipe(
        reader: RawFd,
        writer: RawFd,
        buffer_size: usize,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        let (pipe_read, pipe_write) = make_pipe(buffer_size)?;
        let (pipe_read, pipe_write) = (pipe_read.as_raw_fd(), pipe_write.as_raw_fd());
        loop {
            // Fill: reader -> private pipe (which is empty here).
            let filled = loop {
                match splice_raw(reader, pipe_write, buffer_size) {
                    Ok(n) => break n,
                    Err(err) if is_interrupted(&err) => {}
                    Err(err) if is_would_block(&err) => wait_readable(reader)?,
                    Err(err) if is_splice_refused(&err) => return Ok(Phase::FallBack),
                    Err(err) => return Err(err),
                }
            };
            if filled == 0 {
                return Ok(Phase::Finished);
            }
            // Drain: private pipe -> writer, until the pipe is empty again.
            let mut pending = filled;
            while pending > 0 {
                match splice_raw(pipe_read, writer, pending) {
                    Ok(0) => {
                        // Should not happen with data queued; deliver the
                        // rest by hand rather than risk spinning.
                        return drain_by_copy(pipe_read, writer, pending, buffer_size, report);
                    }
                    Ok(n) => {
                        pending -= n;
                        report.bytes += n as u64;
                        report.spliced_bytes += n as u64;
                    }
                    Err(err) if is_interrupted(&err) => {}
                    Err(err) if is_would_block(&err) => wait_writable(writer)?,
                    Err(err) if is_downstream_closed(&err) => {
                        report.downstream_closed = true;
                        return Ok(Phase::Finished);
                    }
                    Err(err) if is_splice_refused(&err) => {
                        // The writer does not accept splice, but `pending`
                        // bytes are already out of the reader: deliver them
                        // with read/write before falling back.
                        return drain_by_copy(pipe_read, writer, pending, buffer_size, report);
                    }
                    Err(err) => return Err(err),
                }
            }
        }
    }

    /// Move exactly `pending` bytes from the private pipe to `writer` with
    /// `read`/`write`, then hand over to the fallback loop (or finish when
    /// the downstream closed meanwhile).
    fn drain_by_copy(
        pipe_read: RawFd,
        writer: RawFd,
        mut pending: usize,
        buffer_size: usize,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        report.used_read_write = true;
        let mut buf = vec![0u8; buffer_size.min(pending)];
        while pending > 0 {
            let want = pending.min(buf.len());
            let n = read_some(pipe_read, &mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "intermediate splice pipe ran dry while bytes were pending",
                ));
            }
            match write_all(writer, &buf[..n])? {
                WriteAll::Complete => {
                    pending -= n;
                    report.bytes += n as u64;
                }
                WriteAll::Closed { written } => {
                    report.bytes += written as u64;
                    report.downstream_closed = true;
                    return Ok(Phase::Finished);
                }
            }
        }
        Ok(Phase::FallBack)
    }
}
