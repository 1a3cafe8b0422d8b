//! The typed handle pool: what the fuzzer believes each slot of its cspace
//! holds, and which slots it must keep.
//!
//! The belief can be stale (a peer revokes what it lent, a `cap_revoke`
//! deletes copies, a server thread receives a capability): calls that find
//! a slot empty or of another type correct it with `cap_identify`, and the
//! fuzzer re-reads every slot now and then ([`Pool::resync`]).

use crate::rng::Rng;
use ferrous_rt::abi::{CSPACE_SLOTS, Handle, ObjectType};
use ferrous_rt::sys;

/// Slots in the table.
pub const SLOTS: usize = CSPACE_SLOTS as usize;
/// From here on, the server threads receive capabilities (each its own
/// [`RECV_SLOTS`]); the main thread never chooses them as a destination,
/// so its checks on lower slots cannot race with a receive.
pub const RECV_BASE: u32 = 240;
/// Receive slots per server thread.
pub const RECV_SLOTS: u32 = 4;
/// The lowest slot the fuzzer chooses as a destination (1 to 4 are the
/// conventional ones).
const FIRST_FREE: u32 = 5;

pub struct Pool {
    kinds: [Option<ObjectType>; SLOTS],
    protected: [bool; SLOTS],
}

impl Pool {
    pub const fn new() -> Pool {
        Pool {
            kinds: [None; SLOTS],
            protected: [false; SLOTS],
        }
    }

    pub fn get(&self, slot: u32) -> Option<ObjectType> {
        self.kinds.get(slot as usize).copied().flatten()
    }

    pub fn set(&mut self, slot: u32, kind: Option<ObjectType>) {
        if let Some(k) = self.kinds.get_mut(slot as usize) {
            *k = kind;
        }
    }

    /// Keeps `slot` from `cap_delete` and `cap_move` (see `Fuzz::tame`).
    pub fn protect(&mut self, slot: u32, on: bool) {
        if let Some(p) = self.protected.get_mut(slot as usize) {
            *p = on;
        }
    }

    pub fn is_protected(&self, slot: u32) -> bool {
        self.protected.get(slot as usize).copied().unwrap_or(false)
    }

    /// How many slots are believed occupied.
    pub fn count(&self) -> usize {
        self.kinds.iter().filter(|k| k.is_some()).count()
    }

    /// The first slot from a random start that `want` accepts.
    fn find(&self, rng: &mut Rng, want: impl Fn(u32, Option<ObjectType>) -> bool) -> Option<u32> {
        let start = rng.below(SLOTS as u64) as usize;
        (0..SLOTS)
            .map(|i| ((start + i) % SLOTS) as u32)
            .find(|&s| want(s, self.kinds[s as usize]))
    }

    /// A random slot believed to hold a `kind`.
    pub fn pick(&self, rng: &mut Rng, kind: ObjectType) -> Option<u32> {
        self.find(rng, |_, k| k == Some(kind))
    }

    /// A random slot believed occupied.
    pub fn pick_any(&self, rng: &mut Rng) -> Option<u32> {
        self.find(rng, |_, k| k.is_some())
    }

    /// A random occupied slot the fuzzer may delete or move.
    pub fn pick_unprotected(&self, rng: &mut Rng) -> Option<u32> {
        self.find(rng, |s, k| k.is_some() && !self.protected[s as usize])
    }

    /// A random slot believed empty, below [`RECV_BASE`] (or an occupied
    /// one if there is none: the call then fails with `SlotOccupied`).
    pub fn free(&self, rng: &mut Rng) -> u32 {
        self.find(rng, |s, k| {
            k.is_none() && (FIRST_FREE..RECV_BASE).contains(&s)
        })
        .unwrap_or(RECV_BASE - 1)
    }

    /// Reads what `slot` holds from the kernel.
    pub fn refresh(&mut self, slot: u32) -> u64 {
        let kind = match sys::cap_identify(Handle(slot)) {
            Ok(Some(info)) => Some(info.kind),
            _ => None,
        };
        self.set(slot, kind);
        1
    }

    /// Re-reads every slot believed occupied and the server threads'
    /// receive slots; returns the number of calls made.
    pub fn resync(&mut self, all: bool) -> u64 {
        let mut calls = 0;
        for slot in 1..SLOTS as u32 {
            if all || self.kinds[slot as usize].is_some() || slot >= RECV_BASE {
                calls += self.refresh(slot);
            }
        }
        calls
    }

    /// Re-reads only the server threads' receive slots.
    pub fn resync_received(&mut self) -> u64 {
        let mut calls = 0;
        for slot in RECV_BASE..SLOTS as u32 {
            calls += self.refresh(slot);
        }
        calls
    }
}
