//! A table of kernel objects by key whose growth is fallible: the kernel
//! object table (`cap`) and the endpoints and notifications (`ipc`), which
//! system calls add to (issue 14: no infallible allocation on a path a
//! system call reaches). A `BTreeMap` would allocate a node on insert with
//! no way to fail softly; here [`Slab::reserve`] makes the room first, and
//! [`Slab::insert`] after it never allocates. Removal and look-up are O(1)
//! and never allocate, so teardown cannot fail.
//!
//! A key is `tag | generation << 32 | index`: a freed entry is reused with
//! the next generation, so a stale key never names the entry's next value
//! (an entry whose generation would pass 31 bits is retired, not reused).
//! Keys are never 0, and `tag` (bit 63 or 0) keeps two tables' keys apart.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

const INDEX_BITS: u32 = 32;
const MAX_GENERATION: u32 = (1 << 31) - 1;

enum Entry<V> {
    Used { generation: u32, value: V },
    Free { generation: u32, next: Option<u32> },
}

pub struct Slab<V> {
    entries: Vec<Entry<V>>,
    free: Option<u32>,
    live: usize,
    tag: u64,
}

impl<V> Slab<V> {
    /// Heap bytes one entry takes. A table grows by doubling and never
    /// shrinks, so an object in it costs up to three entries (while the
    /// old buffer is copied into one twice its size): what a kernel
    /// charges for it.
    pub const ENTRY_BYTES: usize = core::mem::size_of::<Entry<V>>();

    /// An empty table whose keys carry `tag` (0 or `1 << 63`).
    pub const fn new(tag: u64) -> Slab<V> {
        Slab {
            entries: Vec::new(),
            free: None,
            live: 0,
            tag,
        }
    }

    fn key(&self, index: usize, generation: u32) -> u64 {
        self.tag | u64::from(generation) << INDEX_BITS | index as u64
    }

    /// The entry a key names, if its generation and tag match.
    fn index(&self, key: u64) -> Option<usize> {
        if key & (1 << 63) != self.tag {
            return None;
        }
        let index = (key & 0xffff_ffff) as usize;
        let generation = ((key & !(1 << 63)) >> INDEX_BITS) as u32;
        match self.entries.get(index)? {
            Entry::Used { generation: g, .. } if *g == generation => Some(index),
            _ => None,
        }
    }

    /// Makes sure the next [`Slab::insert`] does not allocate.
    pub fn reserve(&mut self) -> Result<(), TryReserveError> {
        if self.free.is_none() {
            self.entries.try_reserve(1)?;
        }
        Ok(())
    }

    /// The key the next [`Slab::insert`] returns.
    pub fn next_key(&self) -> u64 {
        match self.free {
            Some(i) => match self.entries[i as usize] {
                Entry::Free { generation, .. } => self.key(i as usize, generation),
                Entry::Used { .. } => unreachable!("used entry on the free list"),
            },
            None => self.key(self.entries.len(), 1),
        }
    }

    /// Stores `value`; returns its key. Never allocates after
    /// [`Slab::reserve`] (the caller's obligation).
    pub fn insert(&mut self, value: V) -> u64 {
        self.live += 1;
        match self.free {
            Some(i) => {
                let i = i as usize;
                let Entry::Free { generation, next } = self.entries[i] else {
                    unreachable!("used entry on the free list")
                };
                self.free = next;
                self.entries[i] = Entry::Used { generation, value };
                self.key(i, generation)
            }
            None => {
                let generation = 1;
                // alloc: reserved above (`Slab::reserve`, the caller's obligation)
                self.entries.push(Entry::Used { generation, value });
                self.key(self.entries.len() - 1, generation)
            }
        }
    }

    pub fn get(&self, key: u64) -> Option<&V> {
        match &self.entries[self.index(key)?] {
            Entry::Used { value, .. } => Some(value),
            Entry::Free { .. } => None,
        }
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let i = self.index(key)?;
        match &mut self.entries[i] {
            Entry::Used { value, .. } => Some(value),
            Entry::Free { .. } => None,
        }
    }

    /// Takes the value out; its entry is reused with the next generation.
    pub fn remove(&mut self, key: u64) -> Option<V> {
        let i = self.index(key)?;
        let Entry::Used { generation, .. } = self.entries[i] else {
            return None;
        };
        let retire = generation >= MAX_GENERATION;
        let next = if retire { None } else { self.free };
        let old = core::mem::replace(
            &mut self.entries[i],
            Entry::Free {
                generation: if retire { generation } else { generation + 1 },
                next,
            },
        );
        if !retire {
            self.free = Some(i as u32);
        }
        self.live -= 1;
        match old {
            Entry::Used { value, .. } => Some(value),
            Entry::Free { .. } => None,
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    /// The first value at index `from` or later that `pick` accepts, with
    /// its index and key: walks that drop their lock between steps resume
    /// at the index after it, without allocating a list.
    pub fn find_from(&self, from: usize, pick: impl Fn(&V) -> bool) -> Option<(usize, u64, &V)> {
        self.entries
            .iter()
            .enumerate()
            .skip(from)
            .find_map(|(i, e)| match e {
                Entry::Used { generation, value } if pick(value) => {
                    Some((i, self.key(i, *generation), value))
                }
                _ => None,
            })
    }

    /// Every value with its key.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Entry::Used { generation, value } => Some((self.key(i, *generation), value)),
                Entry::Free { .. } => None,
            })
    }
}
