//! What the smkex kernel module decides that needs no kernel.
//!
//! The module (rust/smkex_mod) does the kernel's I/O: sockets, locks, work
//! items, MPTCP's private structures (through the C glue). Every decision
//! that follows from plain values lives here, where it is tested on the
//! host and fuzzed where it parses: which errno a failure reports, which
//! counter an event moves, whether an option's bytes are valid, whether a
//! subflow may be channel 2, which subflow delivered each handshake byte,
//! how the records of the stream are cut, what an application call does
//! while the handshake runs, and the handshake driver itself.
//!
//! The crate is built twice: for the host (tests, fuzzing) and, like the
//! protocol core, as an rlib against the kernel's own `core` (route B of
//! DESIGN.md §4). Nothing in it allocates, panics on any input or uses
//! `unsafe`.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod channel;
pub mod counters;
pub mod errno;
pub mod held;
pub mod options;
pub mod provenance;
pub mod records;

/// Zeroing that the compiler cannot elide, for the module's buffers too.
pub use zeroize::Zeroize;
