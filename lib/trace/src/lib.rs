//! Kernel tracing: what happened, on which CPU, in which thread, and why,
//! recorded cheaply enough to leave on.
//!
//! - [`Record`]: one event as a fixed 64-byte binary record.
//! - [`EventType`], [`Category`]: the event catalogue, each event with its
//!   category and named arguments; [`describe`] prints a record as
//!   `sched.block thread=5 reason=endpoint_recv object=12`.
//! - [`Ring`]: a bounded, lock-free ring of records, one per CPU in the
//!   kernel. It never blocks and never allocates after creation; when full
//!   it overwrites or refuses by [`Policy`] and counts what was lost.
//! - [`Filter`], [`parse_spec`]: which categories are recorded, from the
//!   `trace=` boot option and changed at run time.
//!
//! # Record format (version 1)
//!
//! Eight `u64` words, little-endian in files and user buffers:
//!
//! | word | content                                              |
//! |------|------------------------------------------------------|
//! | 0    | timestamp: the CPU's time-stamp counter (TSC)        |
//! | 1    | header (below)                                       |
//! | 2    | thread id (0: no thread)                             |
//! | 3    | causal id linking related records (0: none)          |
//! | 4..8 | arguments 0..3; those the event does not use are 0   |
//!
//! The header word:
//!
//! | bits   | field                                               |
//! |--------|-----------------------------------------------------|
//! | 0..16  | event type ([`EventType`] number)                   |
//! | 16..32 | CPU                                                 |
//! | 32..40 | format version ([`FORMAT_VERSION`], 1)              |
//! | 40..48 | argument count (always the event's own)             |
//! | 48..64 | flags: none defined, must be 0                      |
//!
//! A zeroed record is invalid (version 0, event 0), so an unwritten slot
//! or buffer is never mistaken for an event. Timestamps are raw TSC
//! ticks; converting them needs the TSC frequency, which the kernel
//! reports alongside a trace. Per-CPU streams merge by timestamp.
//!
//! # Versioning
//!
//! Event numbers and reason codes are append-only: new ones take unused
//! numbers, nothing is renumbered or reused, and the version stays. An
//! older decoder reports a new event as [`DecodeError::UnknownEvent`]
//! (and [`Header::unpack`] still shows its raw fields). Changing the
//! layout, a header field, or the arguments of an existing event bumps
//! [`FORMAT_VERSION`]. Decoding is strict: [`Record::decode`] accepts
//! exactly the words [`Record::encode`] produces.
//!
//! # Ring concurrency contract
//!
//! - **One producer per ring**: the CPU that owns it, with interrupts off
//!   while it pushes. NMI handlers must not trace. Breaking this is still
//!   memory-safe (there is no `unsafe`): a nested push claims its own
//!   position, so both records survive. Two producers on different CPUs
//!   also claim distinct positions; only if one stalls in mid-push for a
//!   whole lap of the ring can the lapping record be garbled without the
//!   readers noticing (most such records fail to decode and are skipped).
//! - **Any number of readers**, concurrently with the producer and each
//!   other, on any CPU. Readers never block the producer; a reader that
//!   falls behind skips what was overwritten and learns how much
//!   ([`ReadResult::skipped`]). A reader never returns a torn record.
//! - **Drains** ([`Ring::drain`]) consume: each record is drained at most
//!   once, and under [`Policy::DropNewest`] draining frees space.
//! - **Losses** are counted ([`Ring::lost`]) and reported in the trace as
//!   `trace.lost` events, which no filter can switch off.
//!
//! # Events
//!
//! Causal ids link a chain such as `ipc.call` → `ipc.recv` →
//! `ipc.reply` → `sched.wake`. Arguments in record order:
//!
//! | event             | category | arguments                        |
//! |-------------------|----------|----------------------------------|
//! | `sched.switch`    | sched    | from, to, reason ([`SwitchReason`]) |
//! | `sched.block`     | sched    | reason ([`BlockReason`]), object |
//! | `sched.wake`      | sched    | thread, by (0: the kernel)       |
//! | `sched.preempt`   | sched    | thread, by (0: time slice ended) |
//! | `sched.migrate`   | sched    | thread, from_cpu, to_cpu         |
//! | `sched.idle`      | sched    | —                                |
//! | `sched.handoff`   | sched    | from, to, reason ([`BlockReason`]), object |
//! | `syscall.enter`   | syscall  | nr, arg0                         |
//! | `syscall.exit`    | syscall  | nr, error (0: ok), value         |
//! | `ipc.send`        | ipc      | endpoint, badge, len, word0      |
//! | `ipc.recv`        | ipc      | endpoint, badge, len, word0      |
//! | `ipc.call`        | ipc      | endpoint, badge, len, word0      |
//! | `ipc.reply`       | ipc      | to, len, word0                   |
//! | `ipc.signal`   | ipc      | notification, bits               |
//! | `ipc.wait`     | ipc      | notification, bits               |
//! | `cap.denied`      | cap      | slot, op (syscall), reason ([`DenyReason`]), missing rights |
//! | `cap.revoke`      | cap      | slot, deleted                    |
//! | `mem.oom`         | mem      | bytes, who                       |
//! | `mem.map`         | mem      | space, addr, len, perms          |
//! | `mem.unmap`       | mem      | space, addr, len                 |
//! | `fault.page`       | fault    | addr, error, rip, cause ([`FaultCause`]) |
//! | `fault.exception` | fault    | vector, error, rip               |
//! | `irq.enter`       | irq      | vector                           |
//! | `irq.exit`        | irq      | vector                           |
//! | `process.spawn`   | process  | process, parent                  |
//! | `process.exit`    | process  | process, status                  |
//! | `process.thread_start`    | process  | thread, process                  |
//! | `process.thread_exit`     | process  | thread                           |
//! | `process.limit`       | process  | resource, limit                  |
//! | `trace.lost`      | trace    | count (since the last one)       |
//! | `trace.filter`    | trace    | mask (the new categories)        |
//! | `trace.name`      | trace    | thread, process, name0, name1    |
//! | `trace.inject`    | trace    | every, process                   |
//!
//! [`EventType::ALL`] lists them from the same table as the numbers; a
//! test checks that this table has every event with its arguments.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod event;
mod filter;
mod record;
mod ring;

pub use event::{
    Arg, ArgKind, BlockReason, Categories, Category, DenyReason, EventType, FaultCause, MAX_ARGS,
    SwitchReason,
};
pub use filter::{Filter, SpecError, parse_spec};
pub use record::{BYTES, DecodeError, Describe, FORMAT_VERSION, Header, Record, WORDS, describe};
pub use ring::{Policy, ReadResult, Ring, RingError};

#[cfg(test)]
mod tests;
