//! Integration tests of the pure-Rust pump core over real pipes, files and
//! sockets. No Python is involved: they drive `_rust_backend_native::pump`
//! with raw descriptors, every blocking step under a deadline.
//!
//! One test binary (modules, not one file per topic) keeps the link steps,
//! which dominate a mutant's build, to one.

mod cancel;
mod common;
mod delivery;
mod errors;
mod signals;
mod syscalls;
