//! Cancellation through `cancel_fd`: a pump blocked on input, on a full
//! writer, on blocking sockets; a cancel pipe closed or already signalled;
//! an idle cancel descriptor changing nothing.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::common::{
    assert_cancel_untouched, cancel_and_join, cancel_opts, drain_now, fd_is_open, make_pipe, opts,
    payload, pump, set_nonblocking, spawn_consumer, spawn_producer, spawn_pump, write_byte,
    TempPath, BUF, NEVER_OPEN_FD,
};
use _rust_backend_native::pump::{self as core, PumpOptions};

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
    assert_eq!(core::validate_cancel_fd(-1), Ok(None));
    assert_eq!(core::validate_cancel_fd(0), Ok(Some(0)));
    assert_eq!(core::validate_cancel_fd(7), Ok(Some(7)));
    for bad in [-2, -100, 1 << 40] {
        let msg = core::validate_cancel_fd(bad).unwrap_err();
        assert!(
            msg.starts_with("cancel_fd must be -1 (no cancellation) or a non-negative"),
            "{msg}"
        );
        assert!(msg.ends_with(&format!("got {bad}")), "{msg}");
    }
}
