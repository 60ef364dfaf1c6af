//! Tests of the pure-Rust pump core over real pipes, files and sockets.
//!
//! No Python is involved: these exercise `_rust_backend_native::pump`
//! directly with raw descriptors.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use _rust_backend_native::pump::{
    self, pump, read_to_end, PumpOptions, PumpReport, DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE,
};

const BUF: usize = DEFAULT_BUFFER_SIZE;

// ---------------------------------------------------------------- helpers

fn make_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: valid out-array of two ints.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2 failed: {}", std::io::Error::last_os_error());
    // SAFETY: fresh descriptors owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn get_flags(fd: RawFd) -> libc::c_int {
    // SAFETY: F_GETFL only inspects the descriptor.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(
        flags >= 0,
        "F_GETFL failed: {}",
        std::io::Error::last_os_error()
    );
    flags
}

fn set_nonblocking(fd: RawFd) {
    let flags = get_flags(fd);
    // SAFETY: F_SETFL with flags derived from F_GETFL.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    assert_eq!(rc, 0);
    assert_ne!(get_flags(fd) & libc::O_NONBLOCK, 0);
}

fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Deterministic pseudo-random bytes (xorshift64*), distinct per seed.
fn payload(len: usize, seed: u64) -> Vec<u8> {
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
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("cuprum-pump-{}-{tag}-{n}", std::process::id());
        Self(std::env::temp_dir().join(name))
    }

    fn with_contents(tag: &str, data: &[u8]) -> Self {
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
fn spawn_producer(
    fd: OwnedFd,
    data: Vec<u8>,
    chunk: usize,
    pause: Duration,
) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
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
fn spawn_consumer(fd: OwnedFd, pause: Duration) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
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

struct PipeRun {
    report: PumpReport,
    received: Vec<u8>,
}

/// Pump `data` through pipe -> pump -> pipe and collect what came out.
fn run_over_pipes(
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

fn opts(buffer_size: usize, allow_splice: bool) -> PumpOptions {
    PumpOptions {
        buffer_size,
        allow_splice,
        cancel_fd: None,
    }
}

fn assert_delivered(run: &PipeRun, data: &[u8]) {
    assert_eq!(run.report.bytes, data.len() as u64, "reported byte count");
    assert_eq!(run.received.len(), data.len(), "received length");
    assert!(run.received == data, "received bytes differ from input");
    assert!(!run.report.downstream_closed);
}

// ------------------------------------------------------------ pipe -> pipe

#[test]
fn pipes_deliver_all_sizes_with_splice() {
    for (seed, len) in [0, 1, 4096, BUF - 1, BUF, BUF + 1, 3 * BUF + 17]
        .into_iter()
        .enumerate()
    {
        let data = payload(len, seed as u64);
        let run = run_over_pipes(
            &data,
            opts(BUF, true),
            false,
            Duration::ZERO,
            Duration::ZERO,
        );
        assert_delivered(&run, &data);
        if cfg!(target_os = "linux") {
            assert_eq!(run.report.spliced_bytes, len as u64, "len {len}");
            assert!(!run.report.used_read_write, "len {len}");
        }
    }
}

#[test]
fn pipes_deliver_all_sizes_with_read_write() {
    for (seed, len) in [0, 1, 4096, BUF - 1, BUF, BUF + 1, 3 * BUF + 17]
        .into_iter()
        .enumerate()
    {
        let data = payload(len, 100 + seed as u64);
        let run = run_over_pipes(
            &data,
            opts(BUF, false),
            false,
            Duration::ZERO,
            Duration::ZERO,
        );
        assert_delivered(&run, &data);
        assert_eq!(run.report.spliced_bytes, 0);
        assert!(run.report.used_read_write);
    }
}

#[test]
fn pipes_deliver_multi_megabyte_payload() {
    let data = payload(5 * 1024 * 1024 + 3, 7);
    for allow_splice in [true, false] {
        let run = run_over_pipes(
            &data,
            opts(BUF, allow_splice),
            false,
            Duration::ZERO,
            Duration::ZERO,
        );
        assert_delivered(&run, &data);
    }
}

#[test]
fn tiny_and_odd_buffer_sizes_work() {
    let data = payload(20_000, 11);
    for size in [1, 3, 4095, 1 << 20] {
        for allow_splice in [true, false] {
            let run = run_over_pipes(
                &data,
                opts(size, allow_splice),
                false,
                Duration::ZERO,
                Duration::ZERO,
            );
            assert_delivered(&run, &data);
        }
    }
}

#[test]
fn empty_input_returns_zero() {
    for allow_splice in [true, false] {
        let run = run_over_pipes(
            &[],
            opts(BUF, allow_splice),
            false,
            Duration::ZERO,
            Duration::ZERO,
        );
        assert_eq!(run.report.bytes, 0);
        assert!(run.received.is_empty());
        assert!(!run.report.downstream_closed);
    }
}

// ------------------------------------------------------------ non-blocking

#[test]
fn nonblocking_pipes_with_slow_producer_deliver_everything() {
    let data = payload(300_000, 21);
    for allow_splice in [true, false] {
        let run = run_over_pipes(
            &data,
            opts(BUF, allow_splice),
            true,
            Duration::from_millis(1),
            Duration::ZERO,
        );
        assert_delivered(&run, &data);
    }
}

#[test]
fn nonblocking_pipes_with_slow_consumer_deliver_everything() {
    // Larger than the pipe capacity so the writer really hits EAGAIN.
    let data = payload(1_000_000, 22);
    for allow_splice in [true, false] {
        let run = run_over_pipes(
            &data,
            opts(BUF, allow_splice),
            true,
            Duration::ZERO,
            Duration::from_micros(300),
        );
        assert_delivered(&run, &data);
    }
}

#[test]
fn nonblocking_sockets_use_intermediate_pipe() {
    // Neither end is a pipe: exercises splice via the private pipe.
    let data = payload(700_000, 23);
    for allow_splice in [true, false] {
        let (src_ours, src_theirs) = UnixStream::pair().expect("socketpair");
        let (dst_ours, dst_theirs) = UnixStream::pair().expect("socketpair");
        src_ours.set_nonblocking(true).expect("nonblocking");
        dst_ours.set_nonblocking(true).expect("nonblocking");
        let producer = spawn_producer(
            OwnedFd::from(src_theirs),
            data.clone(),
            8191,
            Duration::from_micros(200),
        );
        let consumer = spawn_consumer(OwnedFd::from(dst_theirs), Duration::from_micros(100));
        let report = pump(
            src_ours.as_raw_fd(),
            dst_ours.as_raw_fd(),
            opts(BUF, allow_splice),
        )
        .expect("pump over sockets");
        assert!(fd_is_open(src_ours.as_raw_fd()));
        assert!(fd_is_open(dst_ours.as_raw_fd()));
        drop(dst_ours);
        assert_eq!(producer.join().unwrap(), data.len());
        let received = consumer.join().unwrap();
        assert_eq!(report.bytes, data.len() as u64);
        assert!(
            received == data,
            "socket payload mismatch (splice={allow_splice})"
        );
        if cfg!(target_os = "linux") && allow_splice {
            assert_eq!(report.spliced_bytes, data.len() as u64, "{report:?}");
            assert!(!report.used_read_write, "{report:?}");
        }
    }
}

// ------------------------------------------------------------ regular files

#[test]
fn regular_file_to_pipe() {
    let data = payload(BUF * 4 + 5, 31);
    let src = TempPath::with_contents("src", &data);
    for allow_splice in [true, false] {
        let file = File::open(&src.0).unwrap();
        let (out_r, out_w) = make_pipe();
        let consumer = spawn_consumer(out_r, Duration::ZERO);
        let report = pump(file.as_raw_fd(), out_w.as_raw_fd(), opts(BUF, allow_splice)).unwrap();
        drop(out_w);
        assert_eq!(report.bytes, data.len() as u64);
        assert!(consumer.join().unwrap() == data);
        if cfg!(target_os = "linux") && allow_splice {
            assert_eq!(report.spliced_bytes, data.len() as u64);
        }
    }
}

#[test]
fn pipe_to_regular_file() {
    let data = payload(BUF * 3 + 9, 32);
    for allow_splice in [true, false] {
        let dst = TempPath::new("dst");
        let file = File::create(&dst.0).unwrap();
        let (in_r, in_w) = make_pipe();
        let producer = spawn_producer(in_w, data.clone(), 10_000, Duration::ZERO);
        let report = pump(in_r.as_raw_fd(), file.as_raw_fd(), opts(BUF, allow_splice)).unwrap();
        producer.join().unwrap();
        assert_eq!(report.bytes, data.len() as u64);
        assert!(std::fs::read(&dst.0).unwrap() == data);
    }
}

#[test]
fn regular_file_to_regular_file() {
    let data = payload(BUF * 2 + 123, 33);
    let src = TempPath::with_contents("src", &data);
    for allow_splice in [true, false] {
        let dst = TempPath::new("dst");
        let input = File::open(&src.0).unwrap();
        let output = File::create(&dst.0).unwrap();
        let report = pump(
            input.as_raw_fd(),
            output.as_raw_fd(),
            opts(BUF, allow_splice),
        )
        .unwrap();
        assert_eq!(report.bytes, data.len() as u64);
        assert!(std::fs::read(&dst.0).unwrap() == data);
    }
}

#[test]
fn pump_respects_and_advances_file_positions() {
    let data = payload(10_000, 34);
    let src = TempPath::with_contents("src", &data);
    for allow_splice in [true, false] {
        let mut input = File::open(&src.0).unwrap();
        input.seek(SeekFrom::Start(1000)).unwrap();
        let (out_r, out_w) = make_pipe();
        let consumer = spawn_consumer(out_r, Duration::ZERO);
        let report = pump(
            input.as_raw_fd(),
            out_w.as_raw_fd(),
            opts(BUF, allow_splice),
        )
        .unwrap();
        drop(out_w);
        assert_eq!(report.bytes, 9000);
        assert!(consumer.join().unwrap() == data[1000..]);
        assert_eq!(input.stream_position().unwrap(), 10_000);
    }
}

#[test]
fn append_only_file_falls_back_without_losing_bytes() {
    // splice(2) refuses O_APPEND outputs (EINVAL). From a pipe that is a
    // direct-splice refusal; from a regular file the refusal comes only
    // after the reader was already spliced into the private pipe, so those
    // pending bytes must be delivered by hand.
    let data = payload(BUF * 3 + 77, 35);
    let src = TempPath::with_contents("src", &data);

    let dst = TempPath::with_contents("dst-file", b"prefix:");
    let input = File::open(&src.0).unwrap();
    let output = OpenOptions::new().append(true).open(&dst.0).unwrap();
    let report = pump(input.as_raw_fd(), output.as_raw_fd(), opts(BUF, true)).unwrap();
    assert_eq!(report.bytes, data.len() as u64);
    let mut expected = b"prefix:".to_vec();
    expected.extend_from_slice(&data);
    assert!(std::fs::read(&dst.0).unwrap() == expected);
    if cfg!(target_os = "linux") {
        assert!(report.used_read_write, "{report:?}");
        assert_eq!(report.spliced_bytes, 0, "{report:?}");
    }

    let dst = TempPath::with_contents("dst-pipe", b"prefix:");
    let output = OpenOptions::new().append(true).open(&dst.0).unwrap();
    let (in_r, in_w) = make_pipe();
    let producer = spawn_producer(in_w, data.clone(), 5000, Duration::ZERO);
    let report = pump(in_r.as_raw_fd(), output.as_raw_fd(), opts(BUF, true)).unwrap();
    producer.join().unwrap();
    assert_eq!(report.bytes, data.len() as u64);
    assert!(std::fs::read(&dst.0).unwrap() == expected);
    if cfg!(target_os = "linux") {
        assert!(report.used_read_write, "{report:?}");
    }
}

// ------------------------------------------------------------ downstream closed

#[test]
fn closed_downstream_before_start_returns_ok() {
    let data = payload(200_000, 41);
    for allow_splice in [true, false] {
        let (in_r, in_w) = make_pipe();
        let (out_r, out_w) = make_pipe();
        drop(out_r);
        let producer = spawn_producer(in_w, data.clone(), 1000, Duration::ZERO);
        let report = pump(in_r.as_raw_fd(), out_w.as_raw_fd(), opts(BUF, allow_splice))
            .expect("EPIPE must not be an error");
        assert_eq!(report.bytes, 0);
        assert!(report.downstream_closed);
        drop(in_r); // unblocks the producer with EPIPE
        producer.join().unwrap();
    }
}

#[test]
fn downstream_closing_midway_returns_partial_count() {
    let total = 4 * 1024 * 1024;
    let data = payload(total, 42);
    for allow_splice in [true, false] {
        let (in_r, in_w) = make_pipe();
        let (out_r, out_w) = make_pipe();
        set_nonblocking(out_w.as_raw_fd());
        let producer = spawn_producer(in_w, data.clone(), 32 * 1024, Duration::ZERO);
        let consumer = thread::spawn(move || {
            let mut file = File::from(out_r);
            let mut got = vec![0u8; 100_000];
            file.read_exact(&mut got).unwrap();
            got // dropping `file` closes the read end
        });
        let report = pump(in_r.as_raw_fd(), out_w.as_raw_fd(), opts(BUF, allow_splice))
            .expect("EPIPE must not be an error");
        let got = consumer.join().unwrap();
        assert!(got == data[..100_000]);
        assert!(report.downstream_closed);
        assert!(report.bytes >= 100_000, "{report:?}");
        assert!(report.bytes < total as u64, "{report:?}");
        drop(in_r);
        producer.join().unwrap();
    }
}

#[test]
fn closed_socket_peer_is_downstream_closed() {
    let src = TempPath::with_contents("src", &payload(500_000, 43));
    for allow_splice in [true, false] {
        let input = File::open(&src.0).unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        drop(theirs);
        let report = pump(input.as_raw_fd(), ours.as_raw_fd(), opts(BUF, allow_splice)).unwrap();
        assert!(report.downstream_closed);
        assert_eq!(report.bytes, 0);
    }
}

// ------------------------------------------------------------ errors

const NEVER_OPEN_FD: RawFd = 1_000_000;

#[test]
fn bad_reader_fd_is_ebadf() {
    let (_out_r, out_w) = make_pipe();
    for allow_splice in [true, false] {
        let err = pump(NEVER_OPEN_FD, out_w.as_raw_fd(), opts(BUF, allow_splice)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    }
}

#[test]
fn bad_writer_fd_is_ebadf() {
    for allow_splice in [true, false] {
        let (in_r, in_w) = make_pipe();
        let producer = spawn_producer(in_w, b"hello".to_vec(), 5, Duration::ZERO);
        let err = pump(in_r.as_raw_fd(), NEVER_OPEN_FD, opts(BUF, allow_splice)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
        producer.join().unwrap();
    }
}

#[test]
fn wrong_direction_fds_are_ebadf() {
    // Reading from a pipe's write end / writing to its read end.
    let (in_r, in_w) = make_pipe();
    let (out_r, out_w) = make_pipe();
    for allow_splice in [true, false] {
        let err = pump(in_w.as_raw_fd(), out_w.as_raw_fd(), opts(BUF, allow_splice)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    }
    drop(in_w);
    for allow_splice in [true, false] {
        // Reader at EOF immediately: nothing to write, so no error.
        let report = pump(in_r.as_raw_fd(), out_r.as_raw_fd(), opts(BUF, allow_splice)).unwrap();
        assert_eq!(report.bytes, 0);
    }
    drop(out_w);
}

#[test]
fn directory_reader_reports_eisdir() {
    let dir = File::open(std::env::temp_dir()).unwrap();
    let (_out_r, out_w) = make_pipe();
    let err = pump(dir.as_raw_fd(), out_w.as_raw_fd(), opts(BUF, true)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EISDIR), "{err}");
}

// ------------------------------------------------------------ read_to_end

#[test]
fn read_to_end_collects_everything_nonblocking() {
    let data = payload(250_000, 51);
    let (r, w) = make_pipe();
    set_nonblocking(r.as_raw_fd());
    let producer = spawn_producer(w, data.clone(), 3000, Duration::from_micros(200));
    let got = read_to_end(r.as_raw_fd(), 4096).unwrap();
    producer.join().unwrap();
    assert!(got == data);
    assert!(fd_is_open(r.as_raw_fd()));
}

#[test]
fn read_to_end_empty_and_bad_fd() {
    let (r, w) = make_pipe();
    drop(w);
    assert!(read_to_end(r.as_raw_fd(), BUF).unwrap().is_empty());
    let err = read_to_end(NEVER_OPEN_FD, BUF).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
}

// ------------------------------------------------------------ validation

#[test]
fn validation_messages() {
    assert_eq!(pump::validate_fd("reader_fd", 5), Ok(5));
    assert_eq!(
        pump::validate_fd("reader_fd", -1).unwrap_err(),
        "reader_fd must be a non-negative file descriptor, got -1"
    );
    assert!(pump::validate_fd("writer_fd", 1 << 40)
        .unwrap_err()
        .starts_with("writer_fd must be a non-negative file descriptor"));
    assert_eq!(pump::validate_buffer_size(1), Ok(1));
    assert_eq!(
        pump::validate_buffer_size(MAX_BUFFER_SIZE as i64),
        Ok(MAX_BUFFER_SIZE)
    );
    for bad in [0, -5, MAX_BUFFER_SIZE as i64 + 1] {
        let msg = pump::validate_buffer_size(bad).unwrap_err();
        assert!(msg.contains("between 1 and 67108864"), "{msg}");
        assert!(msg.ends_with(&format!("got {bad}")), "{msg}");
    }
}

#[test]
fn reset_reader_socket_is_an_error_not_downstream_closed() {
    use std::net::{TcpListener, TcpStream};
    // Loopback only: a peer that closes with SO_LINGER=0 sends a reset,
    // which the *reader* sees as ECONNRESET. That is an upstream failure
    // and must not be mistaken for the downstream going away.
    for allow_splice in [true, false] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: valid socket and a correctly sized option value.
        let rc = unsafe {
            libc::setsockopt(
                server.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&raw const linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
        drop(server); // RST
        thread::sleep(Duration::from_millis(50));
        let (_out_r, out_w) = make_pipe();
        let err = pump(
            client.as_raw_fd(),
            out_w.as_raw_fd(),
            opts(BUF, allow_splice),
        )
        .expect_err("a reset reader must be reported");
        assert_eq!(err.raw_os_error(), Some(libc::ECONNRESET), "{err}");
    }
}

// ------------------------------------------------------------ cancellation

/// How long a cancelled pump may take to return.
const CANCEL_DEADLINE: Duration = Duration::from_secs(2);
/// How long the pump is left blocked before it is cancelled.
const SETTLE: Duration = Duration::from_millis(200);

fn cancel_opts(allow_splice: bool, cancel: &OwnedFd) -> PumpOptions {
    PumpOptions {
        cancel_fd: Some(cancel.as_raw_fd()),
        ..opts(BUF, allow_splice)
    }
}

/// Run `pump(reader, writer, options)` on another thread. The descriptors
/// stay owned by the caller, who must keep them open until the join.
fn spawn_pump(
    reader: RawFd,
    writer: RawFd,
    options: PumpOptions,
) -> thread::JoinHandle<std::io::Result<PumpReport>> {
    thread::spawn(move || pump(reader, writer, options))
}

/// Check that the pump is still blocked, fire `cancel`, and return its
/// report once it has finished, failing if that takes `CANCEL_DEADLINE`.
fn cancel_and_join(
    handle: thread::JoinHandle<std::io::Result<PumpReport>>,
    cancel: impl FnOnce(),
) -> PumpReport {
    thread::sleep(SETTLE);
    assert!(
        !handle.is_finished(),
        "pump returned before it was cancelled"
    );
    let fired = Instant::now();
    cancel();
    while !handle.is_finished() {
        assert!(
            fired.elapsed() < CANCEL_DEADLINE,
            "pump still running {CANCEL_DEADLINE:?} after cancellation"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let report = handle
        .join()
        .expect("pump thread panicked")
        .expect("a cancelled pump must not fail");
    assert!(report.cancelled, "{report:?}");
    assert!(!report.downstream_closed, "{report:?}");
    report
}

fn write_byte(fd: &OwnedFd) {
    // SAFETY: one byte from a valid buffer to a descriptor we own.
    let rc = unsafe { libc::write(fd.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    assert_eq!(rc, 1, "{}", std::io::Error::last_os_error());
}

/// Read whatever `fd` holds right now, without blocking or closing it.
fn drain_now(fd: RawFd) -> Vec<u8> {
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

/// The byte written to the cancel pipe is still there: the pump did not
/// read it (nor close the descriptor).
fn assert_cancel_untouched(cancel_r: &OwnedFd) {
    assert!(fd_is_open(cancel_r.as_raw_fd()));
    assert_eq!(drain_now(cancel_r.as_raw_fd()), b"x");
}

#[test]
fn cancel_while_waiting_for_input() {
    // The upstream write end stays open (as with a grandchild holding it),
    // so without cancellation the pump would wait forever.
    let head = payload(10_000, 61);
    for allow_splice in [true, false] {
        for nonblocking in [false, true] {
            let (in_r, in_w) = make_pipe();
            let (out_r, out_w) = make_pipe();
            let (cancel_r, cancel_w) = make_pipe();
            if nonblocking {
                set_nonblocking(in_r.as_raw_fd());
                set_nonblocking(out_w.as_raw_fd());
            }
            File::from(in_w.try_clone().unwrap())
                .write_all(&head)
                .unwrap();
            let handle = spawn_pump(
                in_r.as_raw_fd(),
                out_w.as_raw_fd(),
                cancel_opts(allow_splice, &cancel_r),
            );
            let report = cancel_and_join(handle, || write_byte(&cancel_w));
            let case = format!("splice={allow_splice} nonblocking={nonblocking}");
            assert_eq!(report.bytes, head.len() as u64, "{case}");
            assert!(drain_now(out_r.as_raw_fd()) == head, "{case}");
            assert!(fd_is_open(in_r.as_raw_fd()) && fd_is_open(out_w.as_raw_fd()));
            assert_cancel_untouched(&cancel_r);
            drop(in_w);
        }
    }
}

#[test]
fn cancel_while_waiting_for_output() {
    // Nobody reads the output pipe: the pump fills it and then waits for
    // room that never comes. The pipe starts partly full, so that a
    // blocking write of a whole chunk would block half-way through.
    let data = payload(1024 * 1024, 62);
    let prefix = payload(1000, 65);
    for allow_splice in [true, false] {
        for nonblocking in [false, true] {
            let (in_r, in_w) = make_pipe();
            let (out_r, out_w) = make_pipe();
            let (cancel_r, cancel_w) = make_pipe();
            if nonblocking {
                set_nonblocking(in_r.as_raw_fd());
                set_nonblocking(out_w.as_raw_fd());
            }
            File::from(out_w.try_clone().unwrap())
                .write_all(&prefix)
                .unwrap();
            let producer = spawn_producer(in_w, data.clone(), 64 * 1024, Duration::ZERO);
            let handle = spawn_pump(
                in_r.as_raw_fd(),
                out_w.as_raw_fd(),
                cancel_opts(allow_splice, &cancel_r),
            );
            let report = cancel_and_join(handle, || write_byte(&cancel_w));
            let case = format!("splice={allow_splice} nonblocking={nonblocking}");
            // Exactly the reported bytes reached the writer, in order.
            let received = drain_now(out_r.as_raw_fd());
            assert!(received.starts_with(&prefix), "{case}");
            let received = &received[prefix.len()..];
            assert!(report.bytes > 0, "{case}: {report:?}");
            assert_eq!(received.len() as u64, report.bytes, "{case}");
            assert!(*received == data[..received.len()], "{case}");
            assert_cancel_untouched(&cancel_r);
            drop(in_r); // ends the producer with EPIPE
            assert!(producer.join().unwrap() < data.len(), "{case}");
        }
    }
}

#[test]
fn closing_cancel_write_end_cancels() {
    for allow_splice in [true, false] {
        let (in_r, in_w) = make_pipe();
        let (_out_r, out_w) = make_pipe();
        let (cancel_r, cancel_w) = make_pipe();
        let handle = spawn_pump(
            in_r.as_raw_fd(),
            out_w.as_raw_fd(),
            cancel_opts(allow_splice, &cancel_r),
        );
        let report = cancel_and_join(handle, move || drop(cancel_w));
        assert_eq!(report.bytes, 0);
        assert!(fd_is_open(cancel_r.as_raw_fd()));
        drop(in_w);
    }
}

#[test]
fn cancel_blocked_socket_ends() {
    // Blocking sockets: a reader with nothing to read, and a writer whose
    // peer never reads (the pump must not block inside send/splice).
    for allow_splice in [true, false] {
        let (src_ours, src_theirs) = UnixStream::pair().unwrap();
        let (_out_r, out_w) = make_pipe();
        let (cancel_r, cancel_w) = make_pipe();
        let handle = spawn_pump(
            src_ours.as_raw_fd(),
            out_w.as_raw_fd(),
            cancel_opts(allow_splice, &cancel_r),
        );
        let report = cancel_and_join(handle, || write_byte(&cancel_w));
        assert_eq!(report.bytes, 0);
        drop(src_theirs);

        let (in_r, in_w) = make_pipe();
        let (dst_ours, dst_theirs) = UnixStream::pair().unwrap();
        let producer = spawn_producer(in_w, payload(4 * 1024 * 1024, 63), 65536, Duration::ZERO);
        let (cancel_r, cancel_w) = make_pipe();
        let handle = spawn_pump(
            in_r.as_raw_fd(),
            dst_ours.as_raw_fd(),
            cancel_opts(allow_splice, &cancel_r),
        );
        let report = cancel_and_join(handle, || write_byte(&cancel_w));
        assert!(report.bytes > 0, "{report:?}");
        drop(in_r);
        producer.join().unwrap();
        drop(dst_theirs);
    }
}

#[test]
fn already_signalled_cancel_reads_nothing() {
    for allow_splice in [true, false] {
        let (in_r, in_w) = make_pipe();
        let (out_r, out_w) = make_pipe();
        let (cancel_r, cancel_w) = make_pipe();
        File::from(in_w).write_all(b"left alone").unwrap(); // and at EOF
        write_byte(&cancel_w);
        let report = pump(
            in_r.as_raw_fd(),
            out_w.as_raw_fd(),
            cancel_opts(allow_splice, &cancel_r),
        )
        .unwrap();
        assert!(report.cancelled && report.bytes == 0, "{report:?}");
        assert!(drain_now(out_r.as_raw_fd()).is_empty());
        assert_eq!(drain_now(in_r.as_raw_fd()), b"left alone");
        assert_cancel_untouched(&cancel_r);
    }
}

#[test]
fn idle_cancel_fd_delivers_everything() {
    // A cancel descriptor that never fires changes nothing, on every path:
    // pipes (blocking and not), sockets via the private pipe, files.
    let (cancel_r, _cancel_w) = make_pipe();
    let data = payload(3 * 1024 * 1024 + 5, 64);
    for allow_splice in [true, false] {
        for nonblocking in [false, true] {
            let (in_r, in_w) = make_pipe();
            let (out_r, out_w) = make_pipe();
            if nonblocking {
                set_nonblocking(in_r.as_raw_fd());
                set_nonblocking(out_w.as_raw_fd());
            }
            let producer = spawn_producer(in_w, data.clone(), 7919, Duration::ZERO);
            let consumer = spawn_consumer(out_r, Duration::ZERO);
            let report = pump(
                in_r.as_raw_fd(),
                out_w.as_raw_fd(),
                cancel_opts(allow_splice, &cancel_r),
            )
            .unwrap();
            drop(out_w);
            producer.join().unwrap();
            assert!(!report.cancelled, "{report:?}");
            assert_eq!(report.bytes, data.len() as u64);
            assert!(consumer.join().unwrap() == data);
            if cfg!(target_os = "linux") && allow_splice {
                assert_eq!(report.spliced_bytes, report.bytes, "{report:?}");
            }
        }

        // Blocking sockets at both ends: recv/send with MSG_DONTWAIT.
        let (src_ours, src_theirs) = UnixStream::pair().unwrap();
        let (dst_ours, dst_theirs) = UnixStream::pair().unwrap();
        let producer = spawn_producer(
            OwnedFd::from(src_theirs),
            data.clone(),
            8191,
            Duration::ZERO,
        );
        let consumer = spawn_consumer(OwnedFd::from(dst_theirs), Duration::from_micros(50));
        let report = pump(
            src_ours.as_raw_fd(),
            dst_ours.as_raw_fd(),
            cancel_opts(allow_splice, &cancel_r),
        )
        .unwrap();
        drop(dst_ours);
        producer.join().unwrap();
        assert_eq!(report.bytes, data.len() as u64);
        assert!(consumer.join().unwrap() == data);

        // Regular file -> regular file (the private-pipe splice path).
        let src = TempPath::with_contents("cancel-src", &data);
        let dst = TempPath::new("cancel-dst");
        let input = File::open(&src.0).unwrap();
        let output = File::create(&dst.0).unwrap();
        let report = pump(
            input.as_raw_fd(),
            output.as_raw_fd(),
            cancel_opts(allow_splice, &cancel_r),
        )
        .unwrap();
        assert_eq!(report.bytes, data.len() as u64);
        assert!(std::fs::read(&dst.0).unwrap() == data);
    }
}

#[test]
fn closed_cancel_fd_is_ebadf() {
    let (in_r, in_w) = make_pipe();
    let (_out_r, out_w) = make_pipe();
    let options = PumpOptions {
        cancel_fd: Some(NEVER_OPEN_FD),
        ..opts(BUF, true)
    };
    let err = pump(in_r.as_raw_fd(), out_w.as_raw_fd(), options).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    drop(in_w);
}

#[test]
fn cancel_fd_validation() {
    assert_eq!(pump::validate_cancel_fd(-1), Ok(None));
    assert_eq!(pump::validate_cancel_fd(0), Ok(Some(0)));
    assert_eq!(pump::validate_cancel_fd(7), Ok(Some(7)));
    for bad in [-2, -100, 1 << 40] {
        let msg = pump::validate_cancel_fd(bad).unwrap_err();
        assert!(
            msg.starts_with("cancel_fd must be -1 (no cancellation) or a non-negative"),
            "{msg}"
        );
        assert!(msg.ends_with(&format!("got {bad}")), "{msg}");
    }
}
