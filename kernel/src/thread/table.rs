//! The thread table and the sleepers, whose growth is fallible (issue 14:
//! creating a thread is a system call, and a timed wait runs under
//! THREADS with interrupts off, where a failed allocation must not
//! panic). The table is indexed by the scheduler's slot index; the
//! sleepers' vector keeps room for every thread in the table, so a thread
//! going to sleep (at most once at a time) never allocates.

use super::{Record, ThreadId};
use alloc::collections::TryReserveError;
use alloc::vec::Vec;

pub(super) struct ThreadTable {
    slots: Vec<Option<(ThreadId, Record)>>,
    live: usize,
}

impl ThreadTable {
    pub const fn new() -> ThreadTable {
        ThreadTable {
            slots: Vec::new(),
            live: 0,
        }
    }

    /// Makes room for `id`, so that [`ThreadTable::insert`] does not
    /// allocate.
    pub fn reserve(&mut self, id: ThreadId) -> Result<(), TryReserveError> {
        let need = id.index as usize + 1;
        if need > self.slots.len() {
            self.slots.try_reserve(need - self.slots.len())?;
            // Within the capacity just reserved: no allocation.
            self.slots.resize_with(need, || None);
        }
        Ok(())
    }

    /// After [`ThreadTable::reserve`] for `id`.
    pub fn insert(&mut self, id: ThreadId, r: Record) {
        if let Some(slot) = self.slots.get_mut(id.index as usize) {
            if slot.is_none() {
                self.live += 1;
            }
            *slot = Some((id, r));
        }
    }

    pub fn get(&self, id: &ThreadId) -> Option<&Record> {
        match self.slots.get(id.index as usize)? {
            Some((i, r)) if i == id => Some(r),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, id: &ThreadId) -> Option<&mut Record> {
        match self.slots.get_mut(id.index as usize)? {
            Some((i, r)) if i == id => Some(r),
            _ => None,
        }
    }

    pub fn remove(&mut self, id: &ThreadId) -> Option<Record> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.as_ref().is_some_and(|(i, _)| i == id) {
            self.live -= 1;
            slot.take().map(|(_, r)| r)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    /// Every thread, with its slot index (walks that drop the lock between
    /// steps resume after it).
    pub fn iter(&self) -> impl Iterator<Item = (usize, ThreadId, &Record)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(id, r)| (i, *id, r)))
    }
}

/// Sleeping threads by wake-up time, latest first (the next to wake is
/// last, so waking pops from the end).
pub(super) struct Sleepers {
    by_time: Vec<(u64, ThreadId)>,
}

impl Sleepers {
    pub const fn new() -> Sleepers {
        Sleepers {
            by_time: Vec::new(),
        }
    }

    /// Room for `threads` sleepers in all (the table's size).
    pub fn reserve(&mut self, threads: usize) -> Result<(), TryReserveError> {
        self.by_time
            .try_reserve(threads.saturating_sub(self.by_time.len()))
    }

    fn position(&self, k: &(u64, ThreadId)) -> Result<usize, usize> {
        self.by_time.binary_search_by(|e| k.cmp(e))
    }

    /// `false` (the caller does not block) only if the room kept for every
    /// thread was not there, which [`Sleepers::reserve`] prevents.
    pub fn insert(&mut self, k: (u64, ThreadId)) -> bool {
        if self.by_time.len() == self.by_time.capacity() && self.by_time.try_reserve(1).is_err() {
            log::error!("thread: no room for a sleeper");
            return false;
        }
        if let Err(i) = self.position(&k) {
            // alloc: reserved above (room for every thread, or try_reserve(1))
            self.by_time.insert(i, k);
        }
        true
    }

    pub fn remove(&mut self, k: &(u64, ThreadId)) {
        if let Ok(i) = self.position(k) {
            self.by_time.remove(i);
        }
    }

    /// The next to wake.
    pub fn first(&self) -> Option<(u64, ThreadId)> {
        self.by_time.last().copied()
    }

    pub fn retain(&mut self, keep: impl Fn(ThreadId) -> bool) {
        self.by_time.retain(|&(_, id)| keep(id));
    }
}
