//! Helpers shared by the pump's integration tests.
//!
//! Every blocking step of a test (the pump itself, the producer and consumer
//! threads, `read_to_end`) runs on its own thread and is awaited for at most
//! [`DEADLINE`]: a broken pump makes its test fail within seconds instead of
//! hanging `cargo test` (and every mutation run) until an outer timeout.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use _rust_backend_native::pump::{self as core, PumpOptions, PumpReport, DEFAULT_BUFFER_SIZE};

pub const BUF: usize = DEFAULT_BUFFER_SIZE;

/// How long any one blocking step may take before its test fails.
///
/// The slowest step of a healthy run moves a few MiB and takes well under
/// 100 ms; 5 s leaves room for a loaded 2-core machine while still turning
/// a pump that hangs into a failure long before cargo-mutants' timeout.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// A descriptor number no test ever opens.
pub const NEVER_OPEN_FD: RawFd = 1_000_000;

/// A step running on its own thread, awaited with a deadline.
pub struct Bounded<T> {
    what: &'static str,
    result: mpsc::Receiver<T>,
    handle: thread::JoinHandle<()>,
}

impl<T: Send + 'static> Bounded<T> {
    /// Run `step` on a new thread; `what` names it in a deadline failure.
    pub fn spawn(what: &'static str, step: impl FnOnce() -> T + Send + 'static) -> Self {
        let (sender, result) = mpsc::channel();
        let handle = thread::spawn(move || {
            // The receiver is gone only if the test already failed.
            let _ = sender.send(step());
        });
        Self {
            what,
            result,
            handle,
        }
    }

    /// Whether the step has finished (returned or panicked).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Wait at most [`DEADLINE`] for the step's value.
    ///
    /// # Panics
    ///
    /// When the step is still running at the deadline (the thread is left
    /// behind: a hung pump cannot be stopped from outside).
    pub fn join(self) -> thread::Result<T> {
        self.join_within(DEADLINE)
    }

    /// Like [`Bounded::join`] with a deadline of its own.
    pub fn join_within(self, deadline: Duration) -> thread::Result<T> {
        match self.result.recv_timeout(deadline) {
            Ok(value) => Ok(value),
            Err(mpsc::RecvTimeoutError::Disconnected) => match self.handle.join() {
                Err(panic) => Err(panic),
                Ok(()) => unreachable!("the step sends its value before it ends"),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => hung(self.what, deadline),
        }
    }
}

/// Fail the whole test binary at once: `what` is still running past its
/// deadline, so the pump hangs.
///
/// A panic would fail only this test and leave the hung (perhaps spinning)
/// pump thread behind, while every other test waits out its own deadline
/// beside it; one hung step is verdict enough. The lines printed follow
/// `cargo test`'s own format, so the failing test is still named.
fn hung(what: &str, deadline: Duration) -> ! {
    let test = thread::current().name().unwrap_or("unknown").to_owned();
    println!("\ntest {test} ... FAILED\n\nfailures:\n\n---- {test} stdout ----");
    println!("thread '{test}' panicked at the deadline:");
    println!("{what} still running {deadline:?} later: the pump hangs\n");
    std::process::exit(101);
}

/// [`core::pump`] on its own thread, failing the test past [`DEADLINE`].
/// The descriptors stay owned (and must stay open) on the caller's side.
pub fn pump(reader: RawFd, writer: RawFd, options: PumpOptions) -> io::Result<PumpReport> {
    match Bounded::spawn("pump", move || core::pump(reader, writer, options)).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// [`core::read_to_end`] on its own thread, failing the test past [`DEADLINE`].
pub fn read_to_end(fd: RawFd, buffer_size: usize) -> io::Result<Vec<u8>> {
    match Bounded::spawn("read_to_end", move || core::read_to_end(fd, buffer_size)).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

pub fn make_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: valid out-array of two ints.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2 failed: {}", std::io::Error::last_os_error());
    // SAFETY: fresh descriptors owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

pub fn get_flags(fd: RawFd) -> libc::c_int {
    // SAFETY: F_GETFL only inspects the descriptor.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(
        flags >= 0,
        "F_GETFL failed: {}",
        std::io::Error::last_os_error()
    );
    flags
}

pub fn set_nonblocking(fd: RawFd) {
    let flags = get_flags(fd);
    // SAFETY: F_SETFL with flags derived from F_GETFL.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    assert_eq!(rc, 0);
    assert_ne!(get_flags(fd) & libc::O_NONBLOCK, 0);
}

pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Deterministic pseudo-random bytes (xorshift64*), distinct per seed.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Temporary file path removed on drop.
pub struct TempPath(pub PathBuf);

impl TempPath {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("cuprum-pump-{}-{tag}-{n}", std::process::id());
        Self(std::env::temp_dir().join(name))
    }

    pub fn with_contents(tag: &str, data: &[u8]) -> Self {
        let path = Self::new(tag);
        std::fs::write(&path.0, data).expect("write temp file");
        path
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Write `data` into `fd` (taking ownership, closing it at the end).
/// `chunk`/`pause` make a slow producer. Tolerates a non-blocking `fd`
/// and a consumer that goes away (EPIPE).
pub fn spawn_producer(fd: OwnedFd, data: Vec<u8>, chunk: usize, pause: Duration) -> Bounded<usize> {
    Bounded::spawn("producer", move || {
        let mut file = File::from(fd);
        let mut sent = 0;
        for piece in data.chunks(chunk.max(1)) {
            match file.write_all(piece) {
                Ok(()) => sent += piece.len(),
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => break,
                Err(err) => panic!("producer write failed: {err}"),
            }
            if !pause.is_zero() {
                thread::sleep(pause);
            }
        }
        sent
    })
}

/// Read `fd` to EOF (taking ownership), optionally slowly.
pub fn spawn_consumer(fd: OwnedFd, pause: Duration) -> Bounded<Vec<u8>> {
    Bounded::spawn("consumer", move || {
        let mut file = File::from(fd);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            let n = file.read(&mut buf).expect("consumer read");
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
            if !pause.is_zero() {
                thread::sleep(pause);
            }
        }
    })
}

pub struct PipeRun {
    pub report: PumpReport,
    pub received: Vec<u8>,
}

/// Pump `data` through pipe -> pump -> pipe and collect what came out.
pub fn run_over_pipes(
    data: &[u8],
    options: PumpOptions,
    nonblocking: bool,
    producer_pause: Duration,
    consumer_pause: Duration,
) -> PipeRun {
    let (in_r, in_w) = make_pipe();
    let (out_r, out_w) = make_pipe();
    if nonblocking {
        set_nonblocking(in_r.as_raw_fd());
        set_nonblocking(out_w.as_raw_fd());
    }
    let in_flags = get_flags(in_r.as_raw_fd());
    let out_flags = get_flags(out_w.as_raw_fd());
    let chunk = if producer_pause.is_zero() {
        data.len().max(1)
    } else {
        4093
    };
    let producer = spawn_producer(in_w, data.to_vec(), chunk, producer_pause);
    let consumer = spawn_consumer(out_r, consumer_pause);

    let report = pump(in_r.as_raw_fd(), out_w.as_raw_fd(), options).expect("pump failed");

    // The pump must leave both descriptors open and their flags unchanged.
    assert!(fd_is_open(in_r.as_raw_fd()));
    assert!(fd_is_open(out_w.as_raw_fd()));
    assert_eq!(get_flags(in_r.as_raw_fd()), in_flags);
    assert_eq!(get_flags(out_w.as_raw_fd()), out_flags);

    // Close our ends first so that a pump which stopped early makes the
    // helpers fail (EPIPE / short data) instead of hanging the test.
    drop(out_w);
    drop(in_r);
    let sent = producer.join().expect("producer panicked");
    let received = consumer.join().expect("consumer panicked");
    assert_eq!(sent, data.len(), "producer could not send everything");
    PipeRun { report, received }
}

pub fn opts(buffer_size: usize, allow_splice: bool) -> PumpOptions {
    PumpOptions {
        buffer_size,
        allow_splice,
        cancel_fd: None,
    }
}

pub fn assert_delivered(run: &PipeRun, data: &[u8]) {
    assert_eq!(run.report.bytes, data.len() as u64, "reported byte count");
    assert_eq!(run.received.len(), data.len(), "received length");
    assert!(run.received == data, "received bytes differ from input");
    assert!(!run.report.downstream_closed);
}
pub fn write_byte(fd: &OwnedFd) {
    // SAFETY: one byte from a valid buffer to a descriptor we own.
    let rc = unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    assert_eq!(rc, 1, "{}", std::io::Error::last_os_error());
}

/// Read whatever `fd` holds right now, without blocking or closing it.
pub fn drain_now(fd: RawFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let ready = unsafe { libc::poll(&mut pfd, 1, 0) };
        if ready <= 0 || pfd.revents & libc::POLLIN == 0 {
            return out;
        }
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n >= 0, "{}", std::io::Error::last_os_error());
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n.unsigned_abs()]);
    }
}

// ------------------------------------------------------------ cancellation

/// How long a cancelled pump may take to return.
pub const CANCEL_DEADLINE: Duration = Duration::from_secs(2);
/// How long the pump is left blocked before it is cancelled.
pub const SETTLE: Duration = Duration::from_millis(200);

pub fn cancel_opts(allow_splice: bool, cancel: &OwnedFd) -> PumpOptions {
    PumpOptions {
        cancel_fd: Some(cancel.as_raw_fd()),
        ..opts(BUF, allow_splice)
    }
}

/// Run `pump(reader, writer, options)` on another thread. The descriptors
/// stay owned by the caller, who must keep them open until the join.
pub fn spawn_pump(
    reader: RawFd,
    writer: RawFd,
    options: PumpOptions,
) -> Bounded<io::Result<PumpReport>> {
    Bounded::spawn("pump", move || core::pump(reader, writer, options))
}

/// Check that the pump is still blocked, fire `cancel`, and return its
/// report once it has finished, failing if that takes `CANCEL_DEADLINE`.
pub fn cancel_and_join(
    handle: Bounded<io::Result<PumpReport>>,
    cancel: impl FnOnce(),
) -> PumpReport {
    thread::sleep(SETTLE);
    assert!(
        !handle.is_finished(),
        "pump returned before it was cancelled"
    );
    cancel();
    let report = handle
        .join_within(CANCEL_DEADLINE)
        .expect("pump thread panicked")
        .expect("a cancelled pump must not fail");
    assert!(report.cancelled, "{report:?}");
    assert!(!report.downstream_closed, "{report:?}");
    report
}

/// The byte written to the cancel pipe is still there: the pump did not
/// read it (nor close the descriptor).
pub fn assert_cancel_untouched(cancel_r: &OwnedFd) {
    assert!(fd_is_open(cancel_r.as_raw_fd()));
    assert_eq!(drain_now(cancel_r.as_raw_fd()), b"x");
}

/// A pair of connected descriptors of one kind: (read end, write end).
pub fn channel(socket: bool) -> (OwnedFd, OwnedFd) {
    if socket {
        let (a, b) = std::os::unix::net::UnixStream::pair().expect("socketpair");
        (OwnedFd::from(a), OwnedFd::from(b))
    } else {
        make_pipe()
    }
}
