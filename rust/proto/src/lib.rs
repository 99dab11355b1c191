//! SMKEX v1 protocol core: records, state machine, key schedule and crypto.
//!
//! `no_std`, no allocator, no I/O: the same code runs in the host tests and
//! in the kernel module.
#![no_std]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod selftest;
