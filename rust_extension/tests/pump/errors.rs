//! Errors and argument checks: bad and wrong-way descriptors, readers that
//! refuse splice, a reset upstream socket, `read_to_end`, validation.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::thread;
use std::time::Duration;

use super::common::{
    fd_is_open, make_pipe, opts, payload, pump, read_to_end, set_nonblocking, spawn_producer,
    TempPath, BUF, NEVER_OPEN_FD,
};
use _rust_backend_native::pump::{self as core, PumpOptions, DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE};

// ------------------------------------------------------------ errors

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
fn reader_refusing_splice_into_the_private_pipe_falls_back() {
    // Neither end a pipe: the pump splices the reader into its private
    // pipe, which /proc files and directories refuse (EINVAL). The refusal
    // must hand over to read/write, which copies the file or reports the
    // real error.
    let expected = std::fs::read("/proc/self/cmdline").unwrap();
    let input = File::open("/proc/self/cmdline").unwrap();
    let dst = TempPath::new("proc-copy");
    let output = File::create(&dst.0).unwrap();
    let report = pump(input.as_raw_fd(), output.as_raw_fd(), opts(BUF, true)).unwrap();
    assert_eq!(std::fs::read(&dst.0).unwrap(), expected);
    assert_eq!(report.bytes, expected.len() as u64);
    assert!(report.used_read_write, "{report:?}");

    let dir = File::open(std::env::temp_dir()).unwrap();
    let output = File::create(&dst.0).unwrap();
    let err = pump(dir.as_raw_fd(), output.as_raw_fd(), opts(BUF, true)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EISDIR), "{err}");
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
fn default_options_use_the_documented_64_kib_chunk() {
    // The Python signature and README promise 65536; Python reads it back
    // as the module's DEFAULT_BUFFER_SIZE.
    assert_eq!(DEFAULT_BUFFER_SIZE, 65536);
    let defaults = PumpOptions::default();
    assert_eq!(defaults.buffer_size, 65536);
    assert!(defaults.allow_splice);
    assert_eq!(defaults.cancel_fd, None);
}

#[test]
fn validation_messages() {
    assert_eq!(core::validate_fd("reader_fd", 5), Ok(5));
    assert_eq!(core::validate_fd("reader_fd", 0), Ok(0));
    assert_eq!(
        core::validate_fd("writer_fd", i64::from(i32::MAX)),
        Ok(i32::MAX)
    );
    assert_eq!(
        core::validate_fd("reader_fd", -1).unwrap_err(),
        "reader_fd must be a non-negative file descriptor, got -1"
    );
    assert!(core::validate_fd("writer_fd", 1 << 40)
        .unwrap_err()
        .starts_with("writer_fd must be a non-negative file descriptor"));
    assert_eq!(core::validate_buffer_size(1), Ok(1));
    assert_eq!(
        core::validate_buffer_size(MAX_BUFFER_SIZE as i64),
        Ok(MAX_BUFFER_SIZE)
    );
    for bad in [0, -5, MAX_BUFFER_SIZE as i64 + 1] {
        let msg = core::validate_buffer_size(bad).unwrap_err();
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
    // A pipe writer splices directly; a file writer goes through the
    // private pipe, whose fill must report the reset too.
    for (allow_splice, to_file) in [(true, false), (false, false), (true, true)] {
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
        let dst = TempPath::new("reset");
        let file = File::create(&dst.0).unwrap();
        let writer = if to_file {
            file.as_raw_fd()
        } else {
            out_w.as_raw_fd()
        };
        let err = pump(client.as_raw_fd(), writer, opts(BUF, allow_splice))
            .expect_err("a reset reader must be reported");
        assert_eq!(err.raw_os_error(), Some(libc::ECONNRESET), "{err}");
    }
}
