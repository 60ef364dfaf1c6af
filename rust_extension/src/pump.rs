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
//!
//! # Cancellation
//!
//! [`PumpOptions::cancel_fd`] names a descriptor (normally the read end of a
//! pipe the caller owns) that stops the pump when it becomes readable: a byte
//! was written to it or its write end was closed. The pump never reads from,
//! closes or otherwise touches that descriptor; it only polls it.
//!
//! Without a cancel descriptor the pump behaves exactly as before and makes no
//! extra system calls. With one, every wait polls the cancel descriptor as
//! well, and no operation is allowed to block outside `poll(2)`:
//!
//! - before every read (or read-side `splice(2)`) the reader is polled for
//!   `POLLIN` together with the cancel descriptor, which also makes a running
//!   copy notice cancellation within one chunk;
//! - `splice(2)` gets `SPLICE_F_NONBLOCK`, so its pipe side never blocks;
//! - writes that could block on a *blocking* writer are made non-blocking
//!   per call: `send(2)` with `MSG_DONTWAIT` for sockets, and for pipes and
//!   character devices a `POLLOUT` wait followed by at most `PIPE_BUF` bytes
//!   (a pipe polls writable only with at least that much room, on Linux and
//!   the BSDs; for other character devices, such as ttys, this is best
//!   effort). Such writers are not spliced to, except pipes.
//!
//! Cancellation abandons the stream: bytes already taken from the reader but
//! not yet written (in the copy buffer or the private splice pipe) are
//! dropped, and [`PumpReport::bytes`] counts only bytes actually written.

use std::fmt;
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
    /// Descriptor that cancels the pump when it polls readable (`POLLIN`,
    /// `POLLHUP` or `POLLERR`). `None` means "not cancellable". The caller
    /// owns it; the pump never reads from or closes it.
    pub cancel_fd: Option<RawFd>,
}

impl Default for PumpOptions {
    fn default() -> Self {
        Self {
            buffer_size: DEFAULT_BUFFER_SIZE,
            allow_splice: true,
            cancel_fd: None,
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
    /// `true` when the pump stopped because [`PumpOptions::cancel_fd`]
    /// became readable. Bytes read but not yet written were dropped.
    pub cancelled: bool,
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

/// Check a caller-supplied cancel descriptor: `-1` means none.
///
/// # Errors
///
/// Returns a human-readable message when `fd` is below `-1` or does not fit
/// in a C `int`.
pub fn validate_cancel_fd(fd: i64) -> Result<Option<RawFd>, String> {
    if fd == -1 {
        return Ok(None);
    }
    match RawFd::try_from(fd) {
        Ok(value) if value >= 0 => Ok(Some(value)),
        _ => Err(format!(
            "cancel_fd must be -1 (no cancellation) or a non-negative file \
             descriptor no larger than {}, got {fd}",
            RawFd::MAX
        )),
    }
}

/// Marker carried inside an `io::Error` when the cancel descriptor fires.
///
/// It unwinds the copy loops through `?` like any error and is turned back
/// into a normal return (with [`PumpReport::cancelled`] set) by [`pump`], so
/// it never reaches a caller.
#[derive(Debug)]
struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pump cancelled through cancel_fd")
    }
}

impl std::error::Error for Cancelled {}

fn is_cancelled(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<Cancelled>())
}

fn errno_of(err: &io::Error) -> i32 {
    err.raw_os_error().unwrap_or(0)
}

/// `EAGAIN`/`EWOULDBLOCK` (one errno on Linux; std maps both to the same
/// kind, which also keeps this free of an always-equivalent `||` mutant).
fn is_would_block(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

fn is_interrupted(err: &io::Error) -> bool {
    errno_of(err) == libc::EINTR
}

/// `EPIPE`/`ECONNRESET` on the writer: the consumer went away.
fn is_downstream_closed(err: &io::Error) -> bool {
    let code = errno_of(err);
    code == libc::EPIPE || code == libc::ECONNRESET
}

/// Block until `fd` reports any of `events` (or an error/hang-up condition),
/// or until `cancel` polls readable.
///
/// `POLLHUP`/`POLLERR` on `fd` are returned as "ready": the following read
/// or write reports the real outcome (EOF, `EPIPE`, ...). `POLLIN`,
/// `POLLHUP` or `POLLERR` on `cancel` returns the [`Cancelled`] marker; it
/// is checked first, so cancellation wins over readiness. `POLLNVAL` on
/// either descriptor becomes `EBADF`. With `cancel == None` this is a
/// single-descriptor `poll(2)`.
fn wait_for(fd: RawFd, events: libc::c_short, cancel: Option<RawFd>) -> io::Result<()> {
    let mut pfds = [
        libc::pollfd {
            fd,
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: cancel.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let count: libc::nfds_t = if cancel.is_some() { 2 } else { 1 };
    loop {
        // SAFETY: `pfds` is a valid, exclusively borrowed pollfd array with
        // at least `count` elements.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), count, -1) };
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
        if cancel.is_some() {
            let revents = pfds[1].revents;
            if revents & libc::POLLNVAL != 0 {
                return Err(io::Error::from_raw_os_error(libc::EBADF));
            }
            if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                return Err(io::Error::other(Cancelled));
            }
        }
        if pfds[0].revents & libc::POLLNVAL != 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        return Ok(());
    }
}

/// The kind of a descriptor (`S_IFMT` bits), or `None` if `fstat` fails.
fn file_type(fd: RawFd) -> Option<libc::mode_t> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer; `fd` is only inspected.
    let rc = unsafe { libc::fstat(fd, &mut st) };
    (rc == 0).then_some(st.st_mode & libc::S_IFMT)
}

/// Whether `O_NONBLOCK` is set (`false` if `fcntl` fails).
fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL only inspects the descriptor.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    flags >= 0 && flags & libc::O_NONBLOCK != 0
}

/// How writes reach the caller's writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// Plain `write(2)` of whole chunks, waiting on `EAGAIN`. Used when the
    /// pump is not cancellable, and for writers whose writes cannot block
    /// indefinitely (`O_NONBLOCK`, regular files, block devices).
    Plain,
    /// Blocking pipe: wait for `POLLOUT`, then write at most `PIPE_BUF`
    /// bytes, which a writable pipe accepts without blocking. `splice(2)`
    /// with `SPLICE_F_NONBLOCK` is safe too.
    BlockingPipe,
    /// Other blocking non-socket writer (a tty, a character device): like
    /// [`WriteMode::BlockingPipe`] but never spliced to. Best effort: a
    /// device may poll writable with less than `PIPE_BUF` bytes of room.
    BlockingDevice,
    /// Blocking socket: `send(2)` with `MSG_DONTWAIT`, never spliced to.
    BlockingSocket,
}

/// How the pump drives the caller's descriptors for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Io {
    /// The cancel descriptor, if any.
    cancel: Option<RawFd>,
    /// Read the reader with `recv(2)` and `MSG_DONTWAIT` (a socket, and
    /// only when cancellable).
    reader_is_socket: bool,
    writer: WriteMode,
}

impl Io {
    /// Not cancellable: the original behaviour, no extra system calls.
    const PLAIN: Self = Self {
        cancel: None,
        reader_is_socket: false,
        writer: WriteMode::Plain,
    };

    /// Decide once per call how to drive `reader` and `writer`. Only a
    /// cancellable pump inspects them (two `fstat` and one `fcntl`).
    fn new(reader: RawFd, writer: RawFd, cancel: Option<RawFd>) -> Self {
        if cancel.is_none() {
            return Self::PLAIN;
        }
        let writer_mode = if is_nonblocking(writer) {
            WriteMode::Plain
        } else {
            match file_type(writer) {
                Some(libc::S_IFIFO) => WriteMode::BlockingPipe,
                Some(libc::S_IFSOCK) => WriteMode::BlockingSocket,
                Some(libc::S_IFCHR) => WriteMode::BlockingDevice,
                // Regular files and block devices do not block
                // indefinitely; an unknown type (`fstat` failed) is left
                // to the first write, which reports the real error.
                _ => WriteMode::Plain,
            }
        };
        Self {
            cancel,
            reader_is_socket: file_type(reader) == Some(libc::S_IFSOCK),
            writer: writer_mode,
        }
    }

    /// When cancellable, wait until `reader` is readable (or cancel).
    /// Called before every operation that takes bytes from the reader.
    fn before_read(&self, reader: RawFd) -> io::Result<()> {
        match self.cancel {
            Some(_) => wait_for(reader, libc::POLLIN, self.cancel),
            None => Ok(()),
        }
    }

    /// Whether `splice(2)` into the writer cannot block indefinitely.
    #[cfg(target_os = "linux")]
    fn writer_may_splice(&self) -> bool {
        !matches!(
            self.writer,
            WriteMode::BlockingDevice | WriteMode::BlockingSocket
        )
    }

    /// Extra `splice(2)` flags: `SPLICE_F_NONBLOCK` when cancellable.
    #[cfg(target_os = "linux")]
    fn splice_flags(&self) -> libc::c_uint {
        if self.cancel.is_some() {
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK
        } else {
            libc::SPLICE_F_MOVE
        }
    }
}

/// One successful read: retries `EINTR`, waits out `EAGAIN` (watching the
/// cancel descriptor too, see [`Io`]). Returns `0` at end of file.
fn read_some(fd: RawFd, buf: &mut [u8], io: &Io) -> io::Result<usize> {
    loop {
        io.before_read(fd)?;
        let rc = if io.reader_is_socket {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) }
        } else {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }
        };
        if rc >= 0 {
            return Ok(rc.unsigned_abs());
        }
        let err = io::Error::last_os_error();
        if is_interrupted(&err) {
            continue;
        }
        if is_would_block(&err) {
            if io.cancel.is_none() {
                wait_for(fd, libc::POLLIN, None)?;
            }
            // Cancellable: `before_read` waits at the top of the loop.
            continue;
        }
        return Err(err);
    }
}

/// One write attempt in the way `io.writer` requires (see [`WriteMode`]).
fn write_once(fd: RawFd, data: &[u8], io: &Io) -> io::Result<isize> {
    let rc = match io.writer {
        WriteMode::Plain => {
            // SAFETY: `data` is valid for reads of `data.len()` bytes.
            unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) }
        }
        WriteMode::BlockingPipe | WriteMode::BlockingDevice => {
            wait_for(fd, libc::POLLOUT, io.cancel)?;
            let len = data.len().min(libc::PIPE_BUF);
            // SAFETY: `data` is valid for reads of `len <= data.len()` bytes.
            unsafe { libc::write(fd, data.as_ptr().cast(), len) }
        }
        WriteMode::BlockingSocket => {
            // SAFETY: `data` is valid for reads of `data.len()` bytes.
            unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_DONTWAIT) }
        }
    };
    Ok(rc)
}

/// Result of [`write_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteAll {
    /// Every byte was written.
    Complete,
    /// The writer reported `EPIPE`/`ECONNRESET` before everything was written.
    Closed,
}

/// Write all of `data`, retrying `EINTR`, waiting out `EAGAIN` (watching the
/// cancel descriptor too) and reporting a closed downstream as
/// [`WriteAll::Closed`].
///
/// Every successful write is added to `report.bytes` at once, so the count
/// stays exact when the downstream closes or a wait is cancelled half-way.
fn write_all(fd: RawFd, data: &[u8], io: &Io, report: &mut PumpReport) -> io::Result<WriteAll> {
    let mut written = 0usize;
    while written < data.len() {
        let rc = write_once(fd, &data[written..], io)?;
        if rc >= 0 {
            let n = rc.unsigned_abs();
            written += n;
            report.bytes += n as u64;
            continue;
        }
        let err = io::Error::last_os_error();
        if is_interrupted(&err) {
            continue;
        }
        if is_would_block(&err) {
            wait_for(fd, libc::POLLOUT, io.cancel)?;
            continue;
        }
        if is_downstream_closed(&err) {
            return Ok(WriteAll::Closed);
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
    io: &Io,
    report: &mut PumpReport,
) -> io::Result<()> {
    report.used_read_write = true;
    let mut buf = vec![0u8; buffer_size];
    loop {
        let n = read_some(reader, &mut buf, io)?;
        if n == 0 {
            return Ok(());
        }
        if write_all(writer, &buf[..n], io, report)? == WriteAll::Closed {
            report.downstream_closed = true;
            return Ok(());
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
/// When [`PumpOptions::cancel_fd`] is set and becomes readable (a byte was
/// written to it or its write end was closed), the pump stops at its next
/// check, which comes before every read and inside every wait, and returns
/// normally with [`PumpReport::cancelled`] set. If it is readable from the
/// start the pump returns at once without reading anything. Bytes already
/// taken from the reader but not yet written are dropped: cancellation
/// abandons the stream. See the module documentation for how waits and
/// blocking descriptors are handled then.
///
/// # Errors
///
/// Any other operating-system error (for example `EBADF` for a closed
/// descriptor, including a closed cancel descriptor) is returned as-is.
/// Bytes moved before such an error are not reported.
pub fn pump(reader: RawFd, writer: RawFd, options: PumpOptions) -> io::Result<PumpReport> {
    let buffer_size = options.buffer_size.clamp(MIN_BUFFER_SIZE, MAX_BUFFER_SIZE);
    let io = Io::new(reader, writer, options.cancel_fd);
    let mut report = PumpReport::default();
    match run(
        reader,
        writer,
        buffer_size,
        options.allow_splice,
        &io,
        &mut report,
    ) {
        Ok(()) => Ok(report),
        Err(err) if is_cancelled(&err) => {
            report.cancelled = true;
            Ok(report)
        }
        Err(err) => Err(err),
    }
}

fn run(
    reader: RawFd,
    writer: RawFd,
    buffer_size: usize,
    allow_splice: bool,
    io: &Io,
    report: &mut PumpReport,
) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if allow_splice
        && io.writer_may_splice()
        && splice::pump_splice(reader, writer, buffer_size, io, report)? == Phase::Finished
    {
        return Ok(());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = allow_splice;

    copy_read_write(reader, writer, buffer_size, io, report)
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
        let n = match read_some(fd, &mut out[start..], &Io::PLAIN) {
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
        file_type(fd) == Some(libc::S_IFIFO)
    }

    /// A single raw `splice(2)` call (no retries).
    fn splice_raw(
        fd_in: RawFd,
        fd_out: RawFd,
        len: usize,
        flags: libc::c_uint,
    ) -> io::Result<usize> {
        // SAFETY: null offsets mean "use and update the file positions";
        // no memory is passed to the kernel.
        let rc = unsafe {
            libc::splice(
                fd_in,
                std::ptr::null_mut(),
                fd_out,
                std::ptr::null_mut(),
                len,
                flags,
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
        io: &Io,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        let writer_is_pipe = is_pipe(writer);
        if writer_is_pipe || is_pipe(reader) {
            direct(reader, writer, writer_is_pipe, buffer_size, io, report)
        } else {
            via_pipe(reader, writer, buffer_size, io, report)
        }
    }

    /// One end is a pipe: splice straight from `reader` to `writer`.
    ///
    /// A failed splice moves nothing, so falling back is always lossless.
    /// `EPIPE` can only come from the writer; `ECONNRESET` only from a
    /// socket, which must be the writer when the writer is not the pipe
    /// (when the writer *is* the pipe, a reset belongs to the reader and is
    /// a real error).
    ///
    /// When cancellable, the reader is polled (with the cancel descriptor)
    /// before each splice, and `SPLICE_F_NONBLOCK` keeps the pipe side from
    /// blocking; an `EAGAIN` then almost always means the writer is full.
    fn direct(
        reader: RawFd,
        writer: RawFd,
        writer_is_pipe: bool,
        buffer_size: usize,
        io: &Io,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        let flags = io.splice_flags();
        loop {
            io.before_read(reader)?;
            match splice_raw(reader, writer, buffer_size, flags) {
                Ok(0) => return Ok(Phase::Finished),
                Ok(n) => {
                    report.bytes += n as u64;
                    report.spliced_bytes += n as u64;
                }
                Err(err) if is_interrupted(&err) => {}
                Err(err) if is_would_block(&err) => {
                    // Either side may be the one that is not ready. Waiting
                    // for both in turn never spins: each wait blocks until
                    // that side is ready (or has hung up / errored). When
                    // cancellable, the reader wait is `before_read` above.
                    if io.cancel.is_none() {
                        wait_for(reader, libc::POLLIN, None)?;
                    }
                    wait_for(writer, libc::POLLOUT, io.cancel)?;
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
    ///
    /// If the pump is cancelled while the private pipe holds bytes, those
    /// bytes are dropped with the pipe.
    fn via_pipe(
        reader: RawFd,
        writer: RawFd,
        buffer_size: usize,
        io: &Io,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        let flags = io.splice_flags();
        let (pipe_read, pipe_write) = make_pipe(buffer_size)?;
        let (pipe_read, pipe_write) = (pipe_read.as_raw_fd(), pipe_write.as_raw_fd());
        loop {
            // Fill: reader -> private pipe (which is empty here).
            let filled = loop {
                io.before_read(reader)?;
                match splice_raw(reader, pipe_write, buffer_size, flags) {
                    Ok(n) => break n,
                    Err(err) if is_interrupted(&err) => {}
                    Err(err) if is_would_block(&err) => {
                        // Cancellable: `before_read` waits on the next turn.
                        if io.cancel.is_none() {
                            wait_for(reader, libc::POLLIN, None)?;
                        }
                    }
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
                match splice_raw(pipe_read, writer, pending, flags) {
                    Ok(0) => {
                        // Should not happen with data queued; deliver the
                        // rest by hand rather than risk spinning.
                        return drain_by_copy(pipe_read, writer, pending, buffer_size, io, report);
                    }
                    Ok(n) => {
                        pending -= n;
                        report.bytes += n as u64;
                        report.spliced_bytes += n as u64;
                    }
                    Err(err) if is_interrupted(&err) => {}
                    Err(err) if is_would_block(&err) => wait_for(writer, libc::POLLOUT, io.cancel)?,
                    Err(err) if is_downstream_closed(&err) => {
                        report.downstream_closed = true;
                        return Ok(Phase::Finished);
                    }
                    Err(err) if is_splice_refused(&err) => {
                        // The writer does not accept splice, but `pending`
                        // bytes are already out of the reader: deliver them
                        // with read/write before falling back.
                        return drain_by_copy(pipe_read, writer, pending, buffer_size, io, report);
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
        io: &Io,
        report: &mut PumpReport,
    ) -> io::Result<Phase> {
        report.used_read_write = true;
        let mut buf = vec![0u8; buffer_size.min(pending)];
        while pending > 0 {
            let want = pending.min(buf.len());
            // The private pipe holds `pending` bytes: this read never waits.
            let n = read_some(pipe_read, &mut buf[..want], &Io::PLAIN)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "intermediate splice pipe ran dry while bytes were pending",
                ));
            }
            if write_all(writer, &buf[..n], io, report)? == WriteAll::Closed {
                report.downstream_closed = true;
                return Ok(Phase::Finished);
            }
            pending -= n;
        }
        Ok(Phase::FallBack)
    }
}
