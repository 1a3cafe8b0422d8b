//! Per-thread IPC state (waiting records, mailboxes, causal state): a
//! small map keyed by thread.

use crate::thread::ThreadId;
use ferrous_abi::SysError;

/// Per-thread state: a few entries at a time, found by a linear scan, in a
/// vector that keeps its capacity, so the hot path never allocates (a
/// `BTreeMap` allocates a node whenever it goes from empty to one entry).
/// Room is made before an operation changes anything (`Ipc::room`).
pub(super) struct ThreadMap<V> {
    pub(super) entries: alloc::vec::Vec<(ThreadId, V)>,
}

impl<V> ThreadMap<V> {
    pub(super) const fn new() -> ThreadMap<V> {
        ThreadMap {
            entries: alloc::vec::Vec::new(),
        }
    }

    pub(super) fn get(&self, t: &ThreadId) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == t).map(|(_, v)| v)
    }

    pub(super) fn get_mut(&mut self, t: &ThreadId) -> Option<&mut V> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == t)
            .map(|(_, v)| v)
    }

    /// Room for `n` more entries; `OutOfMemory` if the heap has none.
    pub(super) fn reserve(&mut self, n: usize) -> Result<(), SysError> {
        self.entries
            .try_reserve(n)
            .map_err(|_| SysError::OutOfMemory)
    }

    /// Within the room [`Ipc::room`] made. Without room (a broken
    /// invariant, never expected) it tries to grow, and if the heap has
    /// nothing, logs and drops the entry rather than panic.
    pub(super) fn insert(&mut self, t: ThreadId, v: V) {
        match self.get_mut(&t) {
            Some(old) => *old = v,
            None => {
                if self.entries.len() == self.entries.capacity()
                    && self.entries.try_reserve(1).is_err()
                {
                    log::error!("ipc: no room for {t}'s entry");
                    return;
                }
                // alloc: reserved above (Ipc::room, or try_reserve(1))
                self.entries.push((t, v));
            }
        }
    }

    pub(super) fn remove(&mut self, t: &ThreadId) -> Option<V> {
        let i = self.entries.iter().position(|(k, _)| k == t)?;
        Some(self.entries.swap_remove(i).1)
    }
}

impl<V: Default> ThreadMap<V> {
    /// `None` only without room, as [`ThreadMap::insert`].
    pub(super) fn entry_or_default(&mut self, t: ThreadId) -> Option<&mut V> {
        let i = match self.entries.iter().position(|(k, _)| *k == t) {
            Some(i) => i,
            None => {
                if self.entries.len() == self.entries.capacity()
                    && self.entries.try_reserve(1).is_err()
                {
                    log::error!("ipc: no room for {t}'s causal state");
                    return None;
                }
                // alloc: reserved above (Ipc::room, or try_reserve(1))
                self.entries.push((t, V::default()));
                self.entries.len() - 1
            }
        };
        Some(&mut self.entries[i].1)
    }
}
