//! Tests of the pure-Rust pump core over real pipes, files and sockets:
//! delivery on every path, fallbacks and a closed downstream.
//!
//! No Python is involved: these exercise `_rust_backend_native::pump`
//! directly with raw descriptors, each blocking step under a deadline.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::common::{
    assert_delivered, fd_is_open, make_pipe, opts, payload, pump, run_over_pipes, set_nonblocking,
    spawn_consumer, spawn_producer, Bounded, TempPath, BUF,
};

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
        let consumer = Bounded::spawn("consumer", move || {
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
