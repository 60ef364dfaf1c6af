//! How the pump drives its system calls: `EAGAIN` waited out with
//! `poll(2)` instead of spinning, the write mode chosen for a non-blocking
//! writer, and no byte lost when a direct splice is cancelled.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::common::{
    cancel_and_join, cancel_opts, channel, drain_now, make_pipe, opts, payload, set_nonblocking,
    spawn_consumer, spawn_producer, spawn_pump, write_byte, Bounded, BUF,
};
use _rust_backend_native::pump::{self as core, PumpOptions, PumpReport};

// ------------------------------------------------------------ helpers
/// How hard a thread worked: CPU time and voluntary context switches.
#[derive(Debug, Clone, Copy)]
struct Effort {
    cpu: Duration,
    wakeups: i64,
}

/// Another thread's [`Effort`] so far, or `None` once it has ended.
fn effort_of(tid: libc::pid_t, clock: libc::clockid_t) -> Option<Effort> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid out-pointer; a stale clock id is EINVAL.
    if unsafe { libc::clock_gettime(clock, &raw mut now) } != 0 {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    let wakeups = status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))?
        .trim()
        .parse()
        .ok()?;
    Some(Effort {
        cpu: Duration::new(now.tv_sec.unsigned_abs(), now.tv_nsec.unsigned_abs() as u32),
        wakeups,
    })
}

/// Run the pump on its own thread, let it settle into its wait, measure its
/// effort over [`WINDOW`], then call `release` (which lets it finish).
/// `None` when the pump returned before the window ended.
fn pump_idle_effort(
    reader: RawFd,
    writer: RawFd,
    options: PumpOptions,
    release: impl FnOnce(),
) -> (io::Result<PumpReport>, Option<Effort>) {
    let (ids_sender, ids) = mpsc::channel();
    let pumping = Bounded::spawn("pump", move || {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: gettid has no preconditions; `clock` is a valid
        // out-pointer for this thread's CPU-time clock.
        let (tid, rc) = unsafe {
            (
                libc::gettid(),
                libc::pthread_getcpuclockid(libc::pthread_self(), &raw mut clock),
            )
        };
        assert_eq!(rc, 0);
        ids_sender.send((tid, clock)).unwrap();
        core::pump(reader, writer, options)
    });
    let (tid, clock) = ids.recv().unwrap();
    thread::sleep(SETTLE_INTO_WAIT);
    let before = effort_of(tid, clock);
    thread::sleep(WINDOW);
    let after = effort_of(tid, clock);
    release();
    let effort = match (before, after) {
        (Some(b), Some(a)) => Some(Effort {
            cpu: a.cpu - b.cpu,
            wakeups: a.wakeups - b.wakeups,
        }),
        _ => None,
    };
    (pumping.join().expect("pump thread panicked"), effort)
}

/// A pump that waits in `poll(2)` without a timeout sleeps through the
/// window: next to no CPU and no wake-ups. Retrying `EAGAIN` in a loop
/// burns CPU; polling with a short timeout wakes up hundreds of times.
fn assert_waited_quietly(effort: Option<Effort>, case: &str) {
    let effort = effort.unwrap_or_else(|| panic!("{case}: the pump returned without waiting"));
    assert!(
        effort.cpu < IDLE_CPU_MAX,
        "{case}: the pump used {:?} of CPU while it should have been waiting",
        effort.cpu
    );
    assert!(
        effort.wakeups < IDLE_WAKEUPS_MAX,
        "{case}: the pump woke up {} times while it should have been waiting",
        effort.wakeups
    );
}

// ------------------------------------------------------------ EAGAIN

/// Time for the pump to reach its wait before the window opens.
const SETTLE_INTO_WAIT: Duration = Duration::from_millis(100);
/// The measured wait: nothing can move while it lasts.
const WINDOW: Duration = Duration::from_millis(300);
/// The most CPU time a waiting pump may use in the window. Polling uses
/// microseconds; retrying `EAGAIN` in a loop burns the thread's whole share
/// of a core, still far above this on a heavily loaded machine.
const IDLE_CPU_MAX: Duration = Duration::from_millis(30);
/// The most voluntary context switches in the window: none for a pump
/// blocked in `poll(2)`, hundreds for one polling with a short timeout.
const IDLE_WAKEUPS_MAX: i64 = 10;

/// A non-blocking reader with a few bytes and then nothing until its write
/// end is closed: the pump must sleep in `poll(2)`, not spin on `EAGAIN`.
fn assert_input_wait_polls(socket: bool, kind: &str) {
    for allow_splice in [true, false] {
        let case = format!("{kind} splice={allow_splice}");
        let (in_r, in_w) = channel(socket);
        let (out_r, out_w) = channel(socket);
        set_nonblocking(in_r.as_raw_fd());
        // SAFETY: five bytes from a valid buffer; they fit in any buffer.
        let rc = unsafe { libc::write(in_w.as_raw_fd(), b"early".as_ptr().cast(), 5) };
        assert_eq!(rc, 5);
        let consumer = spawn_consumer(out_r, Duration::ZERO);
        let (result, effort) = pump_idle_effort(
            in_r.as_raw_fd(),
            out_w.as_raw_fd(),
            opts(BUF, allow_splice),
            move || drop(in_w),
        );
        drop(out_w);
        assert_eq!(result.expect("pump failed").bytes, 5, "{case}");
        assert_eq!(consumer.join().unwrap(), b"early", "{case}");
        assert_waited_quietly(effort, &case);
    }
}

#[test]
fn waiting_for_input_on_a_pipe_polls_instead_of_spinning() {
    assert_input_wait_polls(false, "pipes");
}

#[test]
fn waiting_for_input_on_a_socket_polls_instead_of_spinning() {
    assert_input_wait_polls(true, "sockets");
}

/// A non-blocking writer that fills up and stays full until the consumer
/// is let go: the pump must sleep in `poll(2)`, not spin on `EAGAIN`.
fn assert_output_wait_polls(socket: bool, kind: &str) {
    // More than the writer can buffer.
    let data = payload(2 * 1024 * 1024, 72);
    for allow_splice in [true, false] {
        let case = format!("{kind} splice={allow_splice}");
        let (in_r, in_w) = channel(socket);
        let (out_r, out_w) = channel(socket);
        set_nonblocking(out_w.as_raw_fd());
        let producer = spawn_producer(in_w, data.clone(), data.len(), Duration::ZERO);
        let (go, wait_for_go) = mpsc::channel::<()>();
        let consumer = Bounded::spawn("consumer", move || {
            wait_for_go.recv().unwrap();
            spawn_consumer(out_r, Duration::ZERO).join().unwrap()
        });
        let (result, effort) = pump_idle_effort(
            in_r.as_raw_fd(),
            out_w.as_raw_fd(),
            opts(BUF, allow_splice),
            move || go.send(()).unwrap(),
        );
        drop(out_w);
        assert_eq!(result.expect("pump failed").bytes, data.len() as u64);
        assert_eq!(producer.join().unwrap(), data.len());
        assert!(consumer.join().unwrap() == data, "{case}: bytes differ");
        assert_waited_quietly(effort, &case);
    }
}

#[test]
fn waiting_for_room_on_a_pipe_polls_instead_of_spinning() {
    assert_output_wait_polls(false, "pipes");
}

#[test]
fn waiting_for_room_on_a_socket_polls_instead_of_spinning() {
    assert_output_wait_polls(true, "sockets");
}

// ------------------------------------------------------------ write modes

#[test]
fn cancellable_pump_still_splices_into_a_nonblocking_socket() {
    // A non-blocking writer cannot block the pump, so cancellation does not
    // need the send(MSG_DONTWAIT) path: splice stays in use.
    let data = payload(1024 * 1024, 73);
    let (cancel_r, _cancel_w) = make_pipe();
    let (in_r, in_w) = make_pipe();
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let producer = spawn_producer(in_w, data.clone(), 65536, Duration::ZERO);
    let consumer = spawn_consumer(OwnedFd::from(theirs), Duration::ZERO);
    let report = super::common::pump(
        in_r.as_raw_fd(),
        ours.as_raw_fd(),
        cancel_opts(true, &cancel_r),
    )
    .expect("pump failed");
    drop(ours);
    producer.join().unwrap();
    assert!(consumer.join().unwrap() == data);
    assert_eq!(report.bytes, data.len() as u64);
    assert_eq!(report.spliced_bytes, report.bytes, "{report:?}");
    assert!(!report.used_read_write, "{report:?}");
}

// ------------------------------------------------------------ no loss

/// Grow a pipe so that `len` bytes fit without a reader.
fn set_pipe_size(fd: RawFd, len: usize) {
    let size = libc::c_int::try_from(len).unwrap();
    // SAFETY: F_SETPIPE_SZ on a pipe we own.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, size) };
    assert!(rc >= size, "{}", io::Error::last_os_error());
}

/// Cancel a splicing pump blocked on a full writer and check that every
/// byte is either delivered or still in the reader.
fn assert_cancel_loses_nothing(reader_socket: bool, writer_socket: bool, nonblocking: bool) {
    let data = payload(256 * 1024, 74);
    let case = format!(
        "reader_socket={reader_socket} writer_socket={writer_socket} nonblocking={nonblocking}"
    );
    let (in_r, in_w) = channel(reader_socket);
    let (out_r, out_w) = channel(writer_socket);
    let (cancel_r, cancel_w) = make_pipe();
    if writer_socket {
        // A small send buffer, so that the writer fills up long before the
        // payload is through.
        let size: libc::c_int = 16 * 1024;
        // SAFETY: a valid socket and a correctly sized option value.
        let rc = unsafe {
            libc::setsockopt(
                out_w.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&raw const size).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
    }
    if !reader_socket {
        set_pipe_size(in_w.as_raw_fd(), data.len());
    }
    // The whole payload waits in the reader (a socket pair buffers it too);
    // the write end stays open, so the pump can only stop by cancellation.
    let mut sent = 0;
    set_nonblocking(in_w.as_raw_fd());
    while sent < data.len() {
        // SAFETY: writes from a valid buffer; EAGAIN only ends the loop.
        let rc = unsafe {
            libc::write(
                in_w.as_raw_fd(),
                data[sent..].as_ptr().cast(),
                data.len() - sent,
            )
        };
        if rc <= 0 {
            break;
        }
        sent += rc.unsigned_abs();
    }
    let data = &data[..sent];
    if nonblocking {
        set_nonblocking(in_r.as_raw_fd());
        set_nonblocking(out_w.as_raw_fd());
    }
    let handle = spawn_pump(
        in_r.as_raw_fd(),
        out_w.as_raw_fd(),
        cancel_opts(true, &cancel_r),
    );
    let report = cancel_and_join(handle, || write_byte(&cancel_w));
    let mut seen = drain_now(out_r.as_raw_fd());
    assert_eq!(seen.len() as u64, report.bytes, "{case}");
    assert!(
        report.bytes > 0 && report.bytes < sent as u64,
        "{case}: {report:?}"
    );
    assert_eq!(report.spliced_bytes, report.bytes, "{case}: {report:?}");
    seen.extend(drain_now(in_r.as_raw_fd()));
    assert_eq!(seen.len(), sent, "{case}: bytes lost");
    assert!(seen == data, "{case}: bytes reordered");
    drop(in_w);
}

#[test]
fn cancelled_direct_splice_leaves_unsent_bytes_in_the_reader() {
    // With a pipe at either end the pump splices straight from reader to
    // writer: a byte is either delivered or still in the reader, so even a
    // cancelled pump loses nothing (unlike the private-pipe path).
    for nonblocking in [false, true] {
        assert_cancel_loses_nothing(false, false, nonblocking);
    }
    // Pipe to socket, socket to pipe: still direct.
    assert_cancel_loses_nothing(false, true, true);
    assert_cancel_loses_nothing(true, false, false);
}
