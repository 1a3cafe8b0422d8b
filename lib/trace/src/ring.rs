//! A fixed-size ring of records: one producer, any number of readers,
//! lock-free, no `unsafe`. The concurrency contract is in the crate docs.
//!
//! Every record ever pushed has a *position*: 0, 1, 2, ... Position `p`
//! lives in slot `p % capacity` next to a sequence word that says which
//! position the slot holds and whether it is complete:
//!
//! | sequence word | slot holds                         |
//! |---------------|------------------------------------|
//! | 0             | nothing yet                        |
//! | `2p + 1`      | position `p`, being written        |
//! | `2p + 2`      | position `p`, complete             |
//!
//! A reader of position `p` loads the sequence word, the eight words and
//! the sequence word again (a seqlock): if both loads say "`p`,
//! complete", the words are that record; a larger value means `p` was
//! overwritten and is skipped; a smaller one means `p` is not written yet
//! and the read stops there. The counts use `u64` positions and do not
//! wrap in practice (2^63 records take centuries).

use crate::record::{Record, WORDS};
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{
    AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
    fence,
};

/// What a full ring does with a new record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Replace the oldest record: a flight recorder keeps the latest.
    Overwrite,
    /// Refuse the new record until [`Ring::drain`] frees space: a
    /// recording keeps its start.
    DropNewest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// The capacity must be a power of two (so a position maps to a slot
    /// with a mask) and at least 1.
    NotPowerOfTwo(usize),
    OutOfMemory,
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingError::NotPowerOfTwo(n) => {
                write!(f, "trace ring capacity {n} is not a power of two")
            }
            RingError::OutOfMemory => f.write_str("out of memory for the trace ring"),
        }
    }
}

impl core::error::Error for RingError {}

/// What one read returned. Always `next - cursor == records + skipped`:
/// every position passed was either delivered or skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadResult {
    /// Records written to the front of the buffer, oldest first.
    pub records: usize,
    /// Where the next read continues.
    pub next: u64,
    /// Positions passed without a record: overwritten before or while
    /// being read, or (only if the producer contract was broken) garbled.
    pub skipped: u64,
}

struct Slot {
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
}

/// 72 bytes per slot: the sequence word and the record.
pub struct Ring {
    slots: Vec<Slot>,
    mask: u64,
    policy: Policy,
    /// The next position to claim.
    head: AtomicU64,
    /// The drain cursor: positions below it were drained.
    tail: AtomicU64,
    /// Records refused or overwritten before they were drained.
    lost: AtomicU64,
    /// Someone drains this ring (set by the first [`Ring::drain`]).
    drained: core::sync::atomic::AtomicBool,
}

const fn writing(pos: u64) -> u64 {
    pos.wrapping_mul(2).wrapping_add(1)
}

const fn complete(pos: u64) -> u64 {
    pos.wrapping_mul(2).wrapping_add(2)
}

enum SlotRead {
    Complete([u64; WORDS]),
    /// Overwritten by a later position, or torn while being read.
    Gone,
    /// Not written yet.
    Pending,
}

impl Ring {
    /// Allocates all the memory the ring will ever use.
    pub fn new(capacity: usize, policy: Policy) -> Result<Ring, RingError> {
        if !capacity.is_power_of_two() {
            return Err(RingError::NotPowerOfTwo(capacity));
        }
        let mut slots = Vec::new();
        slots
            .try_reserve_exact(capacity)
            .map_err(|_| RingError::OutOfMemory)?;
        slots.resize_with(capacity, || Slot {
            seq: AtomicU64::new(0),
            words: [const { AtomicU64::new(0) }; WORDS],
        });
        Ok(Ring {
            slots,
            mask: capacity as u64 - 1,
            policy,
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            drained: core::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Positions claimed so far: where a reader that wants only new
    /// records starts.
    pub fn head(&self) -> u64 {
        self.head.load(Relaxed)
    }

    /// The oldest position the ring may still hold.
    pub fn oldest(&self) -> u64 {
        self.head().saturating_sub(self.mask + 1)
    }

    /// Records lost so far: refused by [`Policy::DropNewest`], or
    /// overwritten by [`Policy::Overwrite`] before [`Ring::drain`] reached
    /// them. Never decreases, so a reporter can log the difference since
    /// its last look. A record that a drain delivers at the very moment it
    /// is overwritten may be counted as well.
    pub fn lost(&self) -> u64 {
        self.lost.load(Relaxed)
    }

    /// Appends a record; `false` if it was refused (and counted in
    /// [`Ring::lost`]). Never blocks, never allocates. One producer at a
    /// time: see the crate docs.
    pub fn push(&self, record: &Record) -> bool {
        let words = record.encode();
        let capacity = self.mask + 1;
        // Acquire: pairs with the Release in `drain`, so the drain has
        // finished reading the slots it freed before they are reused.
        let tail = self.tail.load(Acquire);
        if self.policy == Policy::DropNewest
            && self.head.load(Relaxed).saturating_sub(tail) >= capacity
        {
            self.lost.fetch_add(1, Relaxed);
            return false;
        }
        // Claim the position with a read-modify-write, not a load and a
        // store: a producer that interrupts this one (an NMI, a broken
        // contract) then claims the next position instead of the same
        // one, and both records survive. Relaxed: the slot's sequence
        // word, not `head`, publishes the record.
        let pos = self.head.fetch_add(1, Relaxed);
        if pos.saturating_sub(tail) >= capacity {
            // Overwrite: position `pos - capacity` was never drained.
            self.lost.fetch_add(1, Relaxed);
        }
        let slot = &self.slots[(pos & self.mask) as usize];
        slot.seq.store(writing(pos), Relaxed);
        // Release fence: a reader that sees any of the words below also
        // sees the odd mark (or later) when it re-checks the sequence
        // word, and discards what it read.
        fence(Release);
        for (cell, word) in slot.words.iter().zip(words) {
            cell.store(word, Relaxed);
        }
        // Release: a reader that Acquire-loads `complete(pos)` sees all
        // eight words. A compare-exchange, not a store: if another
        // producer took the slot meanwhile (only possible if the contract
        // is broken), this record is counted lost instead of being
        // published over the other one.
        let published = slot
            .seq
            .compare_exchange(writing(pos), complete(pos), Release, Relaxed)
            .is_ok();
        if !published {
            self.lost.fetch_add(1, Relaxed);
        }
        published
    }

    /// [`Ring::push`] for the one producer the contract allows, when it
    /// is certain nothing else pushes meanwhile (the kernel: its own CPU's
    /// ring, interrupts off, no tracing from NMI handlers). Plain loads
    /// and stores instead of read-modify-writes: the hot path of a kernel
    /// that traces by default. Still memory-safe if the promise is broken;
    /// records may then be lost or garbled, as the crate docs describe.
    pub fn push_exclusive(&self, record: &Record) -> bool {
        let words = record.encode();
        let capacity = self.mask + 1;
        let tail = self.tail.load(Acquire);
        let pos = self.head.load(Relaxed);
        if pos.saturating_sub(tail) >= capacity {
            if self.policy == Policy::DropNewest {
                self.lost.fetch_add(1, Relaxed);
                return false;
            }
            // Overwrite: position `pos - capacity` was never drained. Only
            // worth counting once someone drains (else the ring is a
            // flight recorder and overwriting is its normal work).
            if self.drained.load(Relaxed) {
                self.lost.fetch_add(1, Relaxed);
            }
        }
        self.head.store(pos + 1, Relaxed);
        let slot = &self.slots[(pos & self.mask) as usize];
        slot.seq.store(writing(pos), Relaxed);
        fence(Release);
        for (cell, word) in slot.words.iter().zip(words) {
            cell.store(word, Relaxed);
        }
        slot.seq.store(complete(pos), Release);
        true
    }

    /// Copies records from position `cursor` on into `out`, oldest first,
    /// until `out` is full or a position is not written yet. Positions
    /// the ring no longer holds are skipped and counted. Does not consume:
    /// any number of readers may read at once, each with its own cursor.
    /// A cursor past [`Ring::head`] reads nothing.
    pub fn read_from(&self, cursor: u64, out: &mut [Record]) -> ReadResult {
        // Relaxed: `head` only bounds the scan; each slot's sequence word
        // says whether its record is there.
        let head = self.head.load(Relaxed);
        if cursor > head {
            return ReadResult {
                records: 0,
                next: cursor,
                skipped: 0,
            };
        }
        // Positions below `head - capacity` are overwritten for sure.
        let mut pos = cursor.max(head.saturating_sub(self.mask + 1));
        let mut result = ReadResult {
            records: 0,
            next: cursor,
            skipped: pos - cursor,
        };
        while pos < head && result.records < out.len() {
            match self.read_slot(pos) {
                SlotRead::Pending => break,
                SlotRead::Gone => result.skipped += 1,
                // A record that does not decode was garbled by two
                // producers; `push` never writes one.
                SlotRead::Complete(words) => match Record::decode(words) {
                    Ok(record) => {
                        out[result.records] = record;
                        result.records += 1;
                    }
                    Err(_) => result.skipped += 1,
                },
            }
            pos += 1;
        }
        result.next = pos;
        result
    }

    /// Reads from the drain cursor and moves it past what was read, so
    /// each record is drained once even with several drains at a time.
    /// Under [`Policy::DropNewest`] this is what frees space.
    pub fn drain(&self, out: &mut [Record]) -> ReadResult {
        self.drained.store(true, Relaxed);
        loop {
            let tail = self.tail.load(Relaxed);
            let result = self.read_from(tail, out);
            // Release: our reads of the slots happen before a producer
            // that Acquire-loads the new cursor reuses them.
            if self
                .tail
                .compare_exchange(tail, result.next, Release, Relaxed)
                .is_ok()
            {
                return result;
            }
            // Another drain took these records; continue after them.
        }
    }

    fn read_slot(&self, pos: u64) -> SlotRead {
        let slot = &self.slots[(pos & self.mask) as usize];
        // Acquire: pairs with the publishing Release in `push`; the words
        // loaded below are this record's or a later writer's.
        let seq = slot.seq.load(Acquire);
        if seq < complete(pos) {
            return SlotRead::Pending;
        }
        if seq > complete(pos) {
            return SlotRead::Gone;
        }
        let words = slot.words.each_ref().map(|w| w.load(Relaxed));
        // Acquire fence: if any load above saw a later writer's word, the
        // load below sees that writer's odd mark (or later).
        fence(Acquire);
        if slot.seq.load(Relaxed) == seq {
            SlotRead::Complete(words)
        } else {
            SlotRead::Gone
        }
    }
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity())
            .field("policy", &self.policy)
            .field("head", &self.head())
            .field("tail", &self.tail.load(Relaxed))
            .field("lost", &self.lost())
            .finish()
    }
}
