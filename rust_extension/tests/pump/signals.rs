//! `EINTR` is retried on every path: the pump's own thread is showered with
//! real signals (no `SA_RESTART`) while it reads, writes, splices and polls.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::thread;
use std::time::Duration;

use super::common::{
    cancel_opts, channel, make_pipe, opts, payload, set_nonblocking, spawn_consumer,
    spawn_producer, Bounded, BUF,
};
use _rust_backend_native::pump::{self as core, PumpOptions, PumpReport};

/// Signals delivered to any pump thread so far (all tests together).
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::Relaxed);
}

/// Handle `SIGUSR1` without `SA_RESTART`, so a signal that lands while the
/// pump is blocked in `read`, `write`, `splice` or `poll` makes that call
/// fail with `EINTR`. Only the pump threads of these tests get `SIGUSR1`.
fn install_interrupting_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: an all-zero sigaction is valid; the handler only touches
        // an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = count_signal as *const () as libc::sighandler_t;
            action.sa_flags = 0;
            libc::sigemptyset(&raw mut action.sa_mask);
            let rc = libc::sigaction(libc::SIGUSR1, &raw const action, std::ptr::null_mut());
            assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        }
    });
}

/// Run the pump on its own thread while another thread sends it `SIGUSR1`
/// every 200 µs until it returns. Returns its result and how many signals
/// were sent.
fn pump_under_signals(
    reader: RawFd,
    writer: RawFd,
    options: PumpOptions,
) -> (io::Result<PumpReport>, usize) {
    install_interrupting_handler();
    // `running` is cleared by the pump thread under the lock, so the
    // signaller never targets a thread that has ended.
    let running = Arc::new(Mutex::new(true));
    let (tid_sender, tid_receiver) = mpsc::channel::<libc::pthread_t>();
    let pump_running = Arc::clone(&running);
    let pumping = Bounded::spawn("pump", move || {
        // SAFETY: pthread_self has no preconditions.
        tid_sender.send(unsafe { libc::pthread_self() }).unwrap();
        let result = core::pump(reader, writer, options);
        *pump_running.lock().unwrap() = false;
        result
    });
    let tid = tid_receiver.recv().unwrap();
    let signaller = Bounded::spawn("signaller", move || {
        let mut sent = 0usize;
        loop {
            {
                let alive = running.lock().unwrap();
                if !*alive {
                    return sent;
                }
                // SAFETY: the thread is alive while `running` is true.
                assert_eq!(unsafe { libc::pthread_kill(tid, libc::SIGUSR1) }, 0);
            }
            sent += 1;
            thread::sleep(Duration::from_micros(200));
        }
    });
    let result = pumping.join().expect("pump thread panicked");
    (result, signaller.join().expect("signaller panicked"))
}

// ------------------------------------------------------------ EINTR

/// Move `data` from `reader` kind to `writer` kind while the pump thread is
/// showered with signals; a slow producer and consumer keep it blocked in
/// every kind of call. Every byte must arrive and the pump must not fail.
fn assert_signals_change_nothing(socket: bool, nonblocking: bool, cancellable: bool) {
    let data = payload(300_000, 71);
    let (cancel_r, _cancel_w) = make_pipe();
    // A slow producer keeps the pump blocked reading, a slow consumer keeps
    // it blocked writing (or draining its private pipe into the writer).
    let slow = Duration::from_millis(1);
    let paces = [(slow, Duration::ZERO), (Duration::ZERO, slow)];
    for ((producer_pause, consumer_pause), allow_splice) in paces
        .into_iter()
        .flat_map(|pace| [(pace, true), (pace, false)])
    {
        let case = format!(
            "socket={socket} nonblocking={nonblocking} cancellable={cancellable} \
             splice={allow_splice} slow_producer={}",
            !producer_pause.is_zero()
        );
        let (in_r, in_w) = channel(socket);
        let (out_r, out_w) = channel(socket);
        if nonblocking {
            set_nonblocking(in_r.as_raw_fd());
            set_nonblocking(out_w.as_raw_fd());
        }
        let producer = spawn_producer(in_w, data.clone(), 4093, producer_pause);
        let consumer = spawn_consumer(out_r, consumer_pause);
        let options = if cancellable {
            cancel_opts(allow_splice, &cancel_r)
        } else {
            opts(BUF, allow_splice)
        };
        let (result, sent) = pump_under_signals(in_r.as_raw_fd(), out_w.as_raw_fd(), options);
        drop(out_w);
        let report = result.unwrap_or_else(|err| panic!("{case}: pump failed: {err}"));
        assert_eq!(producer.join().unwrap(), data.len(), "{case}");
        assert!(consumer.join().unwrap() == data, "{case}: bytes differ");
        assert_eq!(report.bytes, data.len() as u64, "{case}");
        // Tens are sent on an idle machine; a heavily loaded one may run
        // the signaller rarely. Over all the cases of a test, plenty land.
        assert!(sent >= 1, "{case}: no signal was sent");
    }
    assert!(SIGNALS.load(Ordering::Relaxed) > 0, "the handler never ran");
}

#[test]
fn eintr_is_retried_with_blocking_pipes() {
    assert_signals_change_nothing(false, false, false);
}

#[test]
fn eintr_is_retried_with_nonblocking_pipes() {
    assert_signals_change_nothing(false, true, false);
}

#[test]
fn eintr_is_retried_with_blocking_sockets() {
    // Neither end a pipe: the fill and drain splices of the private pipe.
    assert_signals_change_nothing(true, false, false);
}

#[test]
fn eintr_is_retried_with_nonblocking_sockets() {
    assert_signals_change_nothing(true, true, false);
}

#[test]
fn eintr_is_retried_while_cancellable() {
    for socket in [false, true] {
        assert_signals_change_nothing(socket, false, true);
    }
}
