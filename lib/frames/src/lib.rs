//! The physical frame allocator: a binary buddy allocator over 4 KiB frames.
//!
//! It runs before the kernel heap exists, so it owns no memory: the kernel
//! hands it a zeroed array with one [`FrameMeta`] per frame of the arena
//! (Linux's `struct page`), and the free lists are doubly linked through that
//! array by frame index. [`FrameAllocator::alloc`] and
//! [`FrameAllocator::free`] are O([`MAX_ORDER`]) with no scanning; only
//! setup ([`FrameAllocator::new`], [`FrameAllocator::add_free_range`]) and
//! [`FrameAllocator::check_invariants`] touch every frame.
//!
//! Each frame's metadata says whether it is unmanaged, the head of a free or
//! allocated block, or inside one. That makes every misuse (double free,
//! wrong order, freeing the middle of a block, foreign frames) detectable in
//! O(MAX_ORDER) and reported as a [`FrameError`]. Nothing panics on caller
//! input, and a call that fails changes nothing.
//!
//! Free lists are LIFO: the block freed or split off last is handed out
//! first, while it is still warm in the cache.
//!
//! Pure logic without `unsafe`, so host tests cover it, and Miri can too
//! (nightly, so outside CI; proptest needs the filesystem):
//! `MIRIFLAGS=-Zmiri-disable-isolation PROPTEST_CASES=8 cargo +nightly miri test -p ferrous-frames`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::fmt;

pub const FRAME_SIZE: u64 = 4096;
/// Largest block order: blocks hold 2^0 ..= 2^18 frames (4 KiB ..= 1 GiB).
pub const MAX_ORDER: u8 = 18;
/// Frames in a block of [`MAX_ORDER`]; arena bases are aligned to this.
pub const MAX_BLOCK_FRAMES: u64 = 1 << MAX_ORDER;
/// One past the highest frame number: frame addresses must fit in a `u64`.
pub const PFN_LIMIT: u64 = 1 << (64 - FRAME_SIZE.trailing_zeros());
/// Most frames one arena can hold: free lists link by `u32` index (16 TiB).
pub const MAX_ARENA_FRAMES: u64 = NIL as u64;

const LISTS: usize = MAX_ORDER as usize + 1;
/// End of a free list.
const NIL: u32 = u32::MAX;

// `FrameMeta::state` values.
const UNMANAGED: u8 = 0;
const FREE_HEAD: u8 = 1;
const ALLOC_HEAD: u8 = 2;
const INNER: u8 = 3;

/// Bookkeeping for one frame. All-zero (the `Default`) means "not managed":
/// reserved, a hole, or not added yet. Only plain integers, so every bit
/// pattern is a valid value and the array may be made by zeroing raw memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameMeta {
    /// Free heads: neighbours on their free list, as arena indices.
    next: u32,
    prev: u32,
    state: u8,
    /// Heads: the block's order.
    order: u8,
    /// Allocated heads: the [`FrameKind`].
    kind: u8,
    _pad: u8,
}

const _: () = assert!(size_of::<FrameMeta>() <= 16);

impl FrameMeta {
    const INNER: FrameMeta = FrameMeta {
        next: NIL,
        prev: NIL,
        state: INNER,
        order: 0,
        kind: 0,
        _pad: 0,
    };

    const fn head(state: u8, order: u8, kind: u8) -> FrameMeta {
        FrameMeta {
            next: NIL,
            prev: NIL,
            state,
            order,
            kind,
            _pad: 0,
        }
    }

    fn is_head(&self, state: u8, order: u8) -> bool {
        self.state == state && self.order == order
    }
}

/// What an allocated block is used for; kept per block for stats and leak
/// hunting.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    KernelHeap,
    PageTable,
    KernelStack,
    User,
    Dma,
    Test,
}

impl FrameKind {
    /// Every kind, in discriminant order (the index into [`Stats::allocated`]).
    pub const ALL: [FrameKind; 6] = [
        Self::KernelHeap,
        Self::PageTable,
        Self::KernelStack,
        Self::User,
        Self::Dma,
        Self::Test,
    ];

    /// The word used for this kind in logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::KernelHeap => "kernel-heap",
            Self::PageTable => "page-table",
            Self::KernelStack => "kernel-stack",
            Self::User => "user",
            Self::Dma => "dma",
            Self::Test => "test",
        }
    }

    fn from_u8(v: u8) -> Option<FrameKind> {
        Self::ALL.get(usize::from(v)).copied()
    }
}

impl fmt::Display for FrameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an allocator call was refused. The allocator is unchanged afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Nothing free of this order or larger.
    OutOfMemory { order: u8 },
    /// `order > MAX_ORDER`.
    OrderTooLarge { order: u8 },
    /// The arena base is not a multiple of [`MAX_BLOCK_FRAMES`].
    MisalignedArena { base_pfn: u64 },
    /// `pfn` (the first such frame of a range) is not covered by the
    /// metadata, or the arena itself would reach past [`PFN_LIMIT`] or hold
    /// more than [`MAX_ARENA_FRAMES`].
    OutsideArena { pfn: u64 },
    /// `pfn` was already added, or the metadata handed to `new` was not
    /// zeroed there.
    AlreadyManaged { pfn: u64 },
    /// `pfn` lies inside a block that is currently free.
    DoubleFree { pfn: u64 },
    /// `pfn` was never handed out: it is not managed (reserved or a hole).
    NotAllocated { pfn: u64 },
    /// `pfn` is inside the allocated block that starts at `start`.
    InsideAllocation { pfn: u64, start: u64 },
    /// `pfn` was allocated with order `allocated` but freed with `given`.
    WrongOrder { pfn: u64, allocated: u8, given: u8 },
    /// `free` with a `pfn` not aligned to 2^`order`.
    Misaligned { pfn: u64, order: u8 },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::OutOfMemory { order } => {
                write!(f, "out of memory: no free block of order {order} or larger")
            }
            Self::OrderTooLarge { order } => {
                write!(f, "order {order} exceeds the maximum order {MAX_ORDER}")
            }
            Self::MisalignedArena { base_pfn } => write!(
                f,
                "arena base frame {base_pfn:#x} is not aligned to {MAX_BLOCK_FRAMES} frames"
            ),
            Self::OutsideArena { pfn } => write!(f, "frame {pfn:#x} is outside the arena"),
            Self::AlreadyManaged { pfn } => write!(f, "frame {pfn:#x} is already managed"),
            Self::DoubleFree { pfn } => write!(f, "double free of frame {pfn:#x}"),
            Self::NotAllocated { pfn } => write!(f, "frame {pfn:#x} was never allocated"),
            Self::InsideAllocation { pfn, start } => write!(
                f,
                "frame {pfn:#x} is inside the allocation starting at frame {start:#x}"
            ),
            Self::WrongOrder {
                pfn,
                allocated,
                given,
            } => write!(
                f,
                "frame {pfn:#x} was allocated with order {allocated} but freed with order {given}"
            ),
            Self::Misaligned { pfn, order } => {
                write!(f, "frame {pfn:#x} is not aligned to order {order}")
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// Frame counts, kept up to date on every call.
/// `total == free + allocated_total()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Frames ever added with [`FrameAllocator::add_free_range`].
    pub total: u64,
    pub free: u64,
    /// Indexed by `FrameKind as usize`.
    pub allocated: [u64; FrameKind::ALL.len()],
}

impl Stats {
    pub fn allocated(&self, kind: FrameKind) -> u64 {
        self.allocated[kind as usize]
    }

    pub fn allocated_total(&self) -> u64 {
        self.allocated.iter().sum()
    }
}

/// Smallest order whose block holds `frames` frames (`None` if 0 or more
/// than 2^MAX_ORDER).
pub fn order_for_frames(frames: u64) -> Option<u8> {
    if frames == 0 || frames > MAX_BLOCK_FRAMES {
        return None;
    }
    Some(frames.next_power_of_two().trailing_zeros() as u8)
}

/// How many bytes of metadata an arena of `frames` frames needs.
pub const fn meta_bytes(frames: u64) -> u64 {
    frames.saturating_mul(size_of::<FrameMeta>() as u64)
}

const fn block(order: u8) -> usize {
    1 << order
}

/// The buddy allocator over one arena, pfns `base_pfn .. base_pfn + meta.len()`.
pub struct FrameAllocator<'m> {
    meta: &'m mut [FrameMeta],
    base: u64,
    /// First block of each free list, by arena index.
    heads: [u32; LISTS],
    counts: [usize; LISTS],
    stats: Stats,
}

impl<'m> FrameAllocator<'m> {
    /// Manages pfns `base_pfn .. base_pfn + meta.len()`, all initially
    /// unmanaged; add RAM with [`Self::add_free_range`]. `meta` must be
    /// all-default (zeroed); that is checked, in O(frames).
    pub fn new(meta: &'m mut [FrameMeta], base_pfn: u64) -> Result<Self, FrameError> {
        if !base_pfn.is_multiple_of(MAX_BLOCK_FRAMES) {
            return Err(FrameError::MisalignedArena { base_pfn });
        }
        let frames = meta.len() as u64;
        if frames > MAX_ARENA_FRAMES {
            return Err(FrameError::OutsideArena {
                pfn: base_pfn.saturating_add(MAX_ARENA_FRAMES),
            });
        }
        if base_pfn
            .checked_add(frames)
            .is_none_or(|end| end > PFN_LIMIT)
        {
            return Err(FrameError::OutsideArena {
                pfn: base_pfn.max(PFN_LIMIT),
            });
        }
        if let Some(i) = meta.iter().position(|m| *m != FrameMeta::default()) {
            return Err(FrameError::AlreadyManaged {
                pfn: base_pfn + i as u64,
            });
        }
        Ok(FrameAllocator {
            meta,
            base: base_pfn,
            heads: [NIL; LISTS],
            counts: [0; LISTS],
            stats: Stats {
                total: 0,
                free: 0,
                allocated: [0; FrameKind::ALL.len()],
            },
        })
    }

    pub fn base_pfn(&self) -> u64 {
        self.base
    }

    /// One past the last pfn the metadata covers.
    pub fn end_pfn(&self) -> u64 {
        self.base + self.meta.len() as u64
    }

    /// Arena index of `pfn`, if the metadata covers it.
    fn index(&self, pfn: u64) -> Option<usize> {
        let rel = pfn.checked_sub(self.base)?;
        (rel < self.meta.len() as u64).then_some(rel as usize)
    }

    fn pfn(&self, index: usize) -> u64 {
        self.base + index as u64
    }

    /// Adds free frames `[start_pfn, end_pfn)`. The bounds may be unaligned:
    /// the range is split into maximal naturally aligned blocks, each
    /// coalesced with free neighbours already added. O(frames in the range).
    /// An inverted range (`end_pfn < start_pfn`) wraps around and so leaves
    /// the arena; an empty one is a no-op.
    pub fn add_free_range(&mut self, start_pfn: u64, end_pfn: u64) -> Result<(), FrameError> {
        if start_pfn == end_pfn {
            return Ok(());
        }
        let start = self
            .index(start_pfn)
            .ok_or(FrameError::OutsideArena { pfn: start_pfn })?;
        if end_pfn < start_pfn || end_pfn > self.end_pfn() {
            return Err(FrameError::OutsideArena {
                pfn: self.end_pfn(),
            });
        }
        let end = (end_pfn - self.base) as usize;
        if let Some(i) = self.meta[start..end]
            .iter()
            .position(|m| m.state != UNMANAGED)
        {
            return Err(FrameError::AlreadyManaged {
                pfn: start_pfn + i as u64,
            });
        }
        let mut cur = start;
        while cur < end {
            // Index alignment equals pfn alignment: the base is aligned to
            // the largest block.
            let align = cur.trailing_zeros().min(u32::from(MAX_ORDER));
            let fits = (end - cur).ilog2();
            let order = align.min(fits) as u8;
            let size = block(order);
            self.meta[cur + 1..cur + size].fill(FrameMeta::INNER);
            self.release(cur, order);
            cur += size;
        }
        let added = end_pfn - start_pfn;
        self.stats.total += added;
        self.stats.free += added;
        Ok(())
    }

    /// A naturally aligned block of 2^`order` frames; returns its first pfn.
    /// Splits the smallest free block that is large enough, pushing the
    /// upper halves onto the lower free lists.
    pub fn alloc(&mut self, order: u8, kind: FrameKind) -> Result<u64, FrameError> {
        if order > MAX_ORDER {
            return Err(FrameError::OrderTooLarge { order });
        }
        let found = (order..=MAX_ORDER)
            .find(|&o| self.heads[usize::from(o)] != NIL)
            .ok_or(FrameError::OutOfMemory { order })?;
        let index = self.heads[usize::from(found)] as usize;
        self.unlink(index);
        for lower in (order..found).rev() {
            self.push(index + block(lower), lower);
        }
        self.meta[index] = FrameMeta::head(ALLOC_HEAD, order, kind as u8);
        let frames = block(order) as u64;
        self.stats.free -= frames;
        self.stats.allocated[kind as usize] += frames;
        Ok(self.pfn(index))
    }

    /// Returns the block at `pfn`; `order` must be the order it was
    /// allocated with. Coalesces it with free buddies. Returns the kind it
    /// was allocated as. Arguments are checked first (order, alignment,
    /// arena), then the block's state.
    pub fn free(&mut self, pfn: u64, order: u8) -> Result<FrameKind, FrameError> {
        if order > MAX_ORDER {
            return Err(FrameError::OrderTooLarge { order });
        }
        if !pfn.is_multiple_of(block(order) as u64) {
            return Err(FrameError::Misaligned { pfn, order });
        }
        let index = self.index(pfn).ok_or(FrameError::OutsideArena { pfn })?;
        let m = self.meta[index];
        let kind = match m.state {
            ALLOC_HEAD if m.order == order => {
                // Always valid: only `alloc` writes allocated heads.
                FrameKind::from_u8(m.kind).ok_or(FrameError::NotAllocated { pfn })?
            }
            ALLOC_HEAD => {
                return Err(FrameError::WrongOrder {
                    pfn,
                    allocated: m.order,
                    given: order,
                });
            }
            FREE_HEAD => return Err(FrameError::DoubleFree { pfn }),
            UNMANAGED => return Err(FrameError::NotAllocated { pfn }),
            _ => return Err(self.classify_inner(index)),
        };
        self.release(index, order);
        let frames = block(order) as u64;
        self.stats.allocated[kind as usize] -= frames;
        self.stats.free += frames;
        Ok(kind)
    }

    /// Why freeing the inner frame at `index` is wrong: finds the block
    /// containing it among the O(MAX_ORDER) aligned candidate heads.
    fn classify_inner(&self, index: usize) -> FrameError {
        let pfn = self.pfn(index);
        for order in 0..=MAX_ORDER {
            let head = index & !(block(order) - 1);
            let m = self.meta[head];
            if m.is_head(FREE_HEAD, order) {
                return FrameError::DoubleFree { pfn };
            }
            if m.is_head(ALLOC_HEAD, order) {
                return FrameError::InsideAllocation {
                    pfn,
                    start: self.pfn(head),
                };
            }
        }
        // Unreachable while the invariants hold: every inner frame has a head.
        FrameError::NotAllocated { pfn }
    }

    /// Puts the block at `index` on a free list, merging it with its buddy
    /// for as long as the buddy is a free block of the same order. The
    /// absorbed head of each merge becomes an inner frame.
    fn release(&mut self, mut index: usize, mut order: u8) {
        while order < MAX_ORDER {
            let buddy = index ^ block(order);
            if !self
                .meta
                .get(buddy)
                .is_some_and(|m| m.is_head(FREE_HEAD, order))
            {
                break;
            }
            self.unlink(buddy);
            self.meta[index.max(buddy)] = FrameMeta::INNER;
            index = index.min(buddy);
            order += 1;
        }
        self.push(index, order);
    }

    /// Makes `index` a free head of `order` at the front of its list.
    fn push(&mut self, index: usize, order: u8) {
        let list = usize::from(order);
        let next = self.heads[list];
        self.meta[index] = FrameMeta {
            next,
            ..FrameMeta::head(FREE_HEAD, order, 0)
        };
        if next != NIL {
            self.meta[next as usize].prev = index as u32;
        }
        self.heads[list] = index as u32;
        self.counts[list] += 1;
    }

    /// Takes the free head at `index` off its list; the caller rewrites it.
    fn unlink(&mut self, index: usize) {
        let FrameMeta {
            next, prev, order, ..
        } = self.meta[index];
        let list = usize::from(order);
        if prev == NIL {
            self.heads[list] = next;
        } else {
            self.meta[prev as usize].next = next;
        }
        if next != NIL {
            self.meta[next as usize].prev = prev;
        }
        self.counts[list] -= 1;
    }

    /// Is `pfn` the start of a live allocation? `(kind, order)` if so.
    pub fn allocation(&self, pfn: u64) -> Option<(FrameKind, u8)> {
        let m = self.meta.get(self.index(pfn)?)?;
        if m.state != ALLOC_HEAD {
            return None;
        }
        Some((FrameKind::from_u8(m.kind)?, m.order))
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Number of blocks on the free list of `order` (0 beyond MAX_ORDER).
    pub fn free_blocks(&self, order: u8) -> usize {
        self.counts.get(usize::from(order)).copied().unwrap_or(0)
    }

    /// First pfns of the free blocks of `order`, in list (LIFO) order.
    pub fn free_list(&self, order: u8) -> FreeList<'_> {
        let list = usize::from(order);
        FreeList {
            meta: self.meta,
            base: self.base,
            next: self.heads.get(list).copied().unwrap_or(NIL),
            left: self.free_blocks(order),
        }
    }

    pub fn largest_free_order(&self) -> Option<u8> {
        (0..=MAX_ORDER)
            .rev()
            .find(|&o| self.heads[usize::from(o)] != NIL)
    }

    /// Walks every free list and all metadata, O(frames), and checks every
    /// invariant: links, alignment, complete coalescing, block shapes and
    /// the stats. For tests and debug builds; names the first violation.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let len = self.meta.len();
        let mut free_frames = 0u64;
        for order in 0..=MAX_ORDER {
            let size = block(order);
            let count = self.counts[usize::from(order)];
            let mut prev = NIL;
            let mut cur = self.heads[usize::from(order)];
            let mut seen = 0;
            while cur != NIL {
                if seen == count {
                    return Err("free list is longer than its count");
                }
                let i = cur as usize;
                let m = self.meta.get(i).ok_or("free list link leaves the arena")?;
                if m.state != FREE_HEAD {
                    return Err("free list entry is not a free head");
                }
                if m.order != order {
                    return Err("free block is on the list of another order");
                }
                if m.prev != prev {
                    return Err("free list prev link is broken");
                }
                if !i.is_multiple_of(size) {
                    return Err("free block is misaligned");
                }
                if order < MAX_ORDER
                    && self
                        .meta
                        .get(i ^ size)
                        .is_some_and(|b| b.is_head(FREE_HEAD, order))
                {
                    return Err("free buddies were not coalesced");
                }
                free_frames += size as u64;
                seen += 1;
                prev = cur;
                cur = m.next;
            }
            if seen != count {
                return Err("free list is shorter than its count");
            }
        }

        let mut i = 0;
        let mut free_heads = 0;
        let mut total = 0u64;
        let mut allocated = [0u64; FrameKind::ALL.len()];
        while i < len {
            let m = self.meta[i];
            if m.order > MAX_ORDER {
                return Err("block order exceeds MAX_ORDER");
            }
            let size = block(m.order);
            match m.state {
                UNMANAGED if m == FrameMeta::default() => {
                    i += 1;
                    continue;
                }
                UNMANAGED => return Err("unmanaged frame has stale metadata"),
                INNER => return Err("inner frame outside any block"),
                FREE_HEAD => free_heads += 1,
                ALLOC_HEAD => {
                    let kind = FrameKind::from_u8(m.kind).ok_or("allocated block has no kind")?;
                    allocated[kind as usize] += size as u64;
                }
                _ => return Err("frame has an unknown state"),
            }
            if !i.is_multiple_of(size) {
                return Err("block is misaligned");
            }
            let end = i
                .checked_add(size)
                .filter(|&e| e <= len)
                .ok_or("block runs past the arena")?;
            if self.meta[i + 1..end].iter().any(|t| *t != FrameMeta::INNER) {
                return Err("block contains a frame that is not plain inner");
            }
            total += size as u64;
            i = end;
        }
        if free_heads != self.counts.iter().sum::<usize>() {
            return Err("free block missing from its free list");
        }
        if free_frames != self.stats.free {
            return Err("stats.free disagrees with the free lists");
        }
        if allocated != self.stats.allocated {
            return Err("stats.allocated disagrees with the metadata");
        }
        if total != self.stats.total {
            return Err("stats.total disagrees with the metadata");
        }
        Ok(())
    }
}

impl fmt::Debug for FrameAllocator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameAllocator")
            .field("base_pfn", &self.base)
            .field("end_pfn", &self.end_pfn())
            .field("stats", &self.stats)
            .field("free_blocks", &self.counts)
            .finish()
    }
}

/// Iterator over one free list, from [`FrameAllocator::free_list`].
pub struct FreeList<'a> {
    meta: &'a [FrameMeta],
    base: u64,
    next: u32,
    /// Bounds the walk even if the list were corrupt.
    left: usize,
}

impl Iterator for FreeList<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.left == 0 {
            return None;
        }
        let i = self.next as usize;
        let m = self.meta.get(i)?;
        self.left -= 1;
        self.next = m.next;
        Some(self.base + i as u64)
    }
}

#[cfg(test)]
mod tests;
