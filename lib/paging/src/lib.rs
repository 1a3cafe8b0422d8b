//! Four-level x86_64 page tables owned by an [`AddressSpace`]: map, unmap,
//! protect and translate 4 KiB, 2 MiB and 1 GiB pages.
//!
//! The logic is pure: tables are reached through a [`TableMemory`] that the
//! kernel implements over its direct map (and host tests over a hash map),
//! which also allocates and frees table frames and performs TLB invalidation.
//! That keeps this crate free of `unsafe` and testable on the host.
//!
//! Rules it enforces:
//! - A user address space maps only below [`USER_END`], only user pages; a
//!   kernel address space maps only at or above [`KERNEL_START`], never user
//!   pages. User spaces share the kernel half by copying the kernel's
//!   top-level entries at creation.
//! - Intermediate entries grant everything; leaves carry the restrictions.
//! - Unmapping frees intermediate tables that become empty, except the
//!   kernel half's third-level tables, which every address space shares.
//! - Every change to a present entry is followed by [`TableMemory::flush`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::fmt;

pub mod entry;
pub use entry::Flags;
use entry::{ADDR_MASK, HUGE, NO_EXECUTE, PRESENT, USER, WRITABLE};

/// One past the highest user address (the lower canonical half).
pub const USER_END: u64 = 0x0000_8000_0000_0000;
/// The first kernel address (the upper canonical half).
pub const KERNEL_START: u64 = 0xffff_8000_0000_0000;
pub const ENTRIES: usize = 512;

/// Access to page-table frames by physical address.
pub trait TableMemory {
    /// Entry `index` of the table in the frame at physical `table`.
    fn read(&self, table: u64, index: usize) -> u64;
    fn write(&mut self, table: u64, index: usize, value: u64);
    /// A zeroed frame for a new table, or `None` when memory is exhausted.
    fn alloc_table(&mut self) -> Option<u64>;
    fn free_table(&mut self, table: u64);
    /// Invalidates cached translations for `[va, va + len)` in the address
    /// space rooted at `root` (the one TLB hook; SMP shootdown lives behind it).
    fn flush(&mut self, root: u64, va: u64, len: u64);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageSize {
    Size4K,
    Size2M,
    Size1G,
}

impl PageSize {
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => 1 << 12,
            PageSize::Size2M => 1 << 21,
            PageSize::Size1G => 1 << 30,
        }
    }

    /// Table level holding the leaf: 1 = page table, 2 = directory, 3 = PDPT.
    const fn leaf_level(self) -> u32 {
        match self {
            PageSize::Size4K => 1,
            PageSize::Size2M => 2,
            PageSize::Size1G => 3,
        }
    }

    const fn at_level(level: u32) -> PageSize {
        match level {
            1 => PageSize::Size4K,
            2 => PageSize::Size2M,
            _ => PageSize::Size1G,
        }
    }
}

/// Which half of the address space a root may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Half {
    User,
    Kernel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Bits 48..64 are not copies of bit 47.
    NonCanonical(u64),
    /// The address is not aligned to the page size.
    Misaligned(u64),
    /// Physical address beyond the 52-bit limit.
    BadPhysical(u64),
    /// The address lies in the other half than this address space manages.
    WrongHalf(u64),
    /// A user page in the kernel half or a kernel page in a user space.
    WrongPrivilege(u64),
    AlreadyMapped(u64),
    NotMapped(u64),
    /// The address is inside a mapped page but not at its start.
    NotPageStart(u64),
    /// A larger page covers the address, or smaller pages occupy the range.
    SizeConflict(u64),
    /// No memory for an intermediate table.
    OutOfMemory,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MapError::NonCanonical(a) => write!(f, "address {a:#x} is not canonical"),
            MapError::Misaligned(a) => write!(f, "address {a:#x} is not aligned to the page size"),
            MapError::BadPhysical(a) => write!(f, "physical address {a:#x} is out of range"),
            MapError::WrongHalf(a) => {
                write!(f, "address {a:#x} is outside this address space's half")
            }
            MapError::WrongPrivilege(a) => {
                write!(f, "address {a:#x}: user pages belong in the user half only")
            }
            MapError::AlreadyMapped(a) => write!(f, "address {a:#x} is already mapped"),
            MapError::NotMapped(a) => write!(f, "address {a:#x} is not mapped"),
            MapError::NotPageStart(a) => write!(f, "address {a:#x} is not the start of its page"),
            MapError::SizeConflict(a) => {
                write!(f, "address {a:#x} conflicts with a page of another size")
            }
            MapError::OutOfMemory => write!(f, "out of memory for page tables"),
        }
    }
}

/// What an address translates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The physical address of the byte asked about.
    pub phys: u64,
    /// Start of the page (virtual) and of its frame (physical).
    pub page: u64,
    pub frame: u64,
    pub size: PageSize,
    /// Effective permissions, combined over all levels.
    pub flags: Flags,
}

pub fn is_canonical(va: u64) -> bool {
    let top = va >> 47;
    top == 0 || top == 0x1ffff
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

/// A page-table root and the half of the address space it may change.
#[derive(Debug, PartialEq, Eq)]
pub struct AddressSpace {
    root: u64,
    half: Half,
}

impl AddressSpace {
    /// Adopts existing tables (the kernel's, from the loader).
    pub fn from_root(root: u64, half: Half) -> AddressSpace {
        AddressSpace { root, half }
    }

    /// A new user address space sharing the kernel half of `kernel`.
    pub fn new_user(
        mem: &mut impl TableMemory,
        kernel: &AddressSpace,
    ) -> Result<AddressSpace, MapError> {
        let root = mem.alloc_table().ok_or(MapError::OutOfMemory)?;
        for i in ENTRIES / 2..ENTRIES {
            let e = mem.read(kernel.root, i);
            mem.write(root, i, e);
        }
        Ok(AddressSpace {
            root,
            half: Half::User,
        })
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    pub fn half(&self) -> Half {
        self.half
    }

    fn check_va(&self, va: u64) -> Result<(), MapError> {
        if !is_canonical(va) {
            return Err(MapError::NonCanonical(va));
        }
        let user = va < USER_END;
        match (self.half, user) {
            (Half::User, true) | (Half::Kernel, false) => Ok(()),
            _ => Err(MapError::WrongHalf(va)),
        }
    }

    /// Maps the page at `va` to the frame at `pa`.
    pub fn map(
        &mut self,
        mem: &mut impl TableMemory,
        va: u64,
        pa: u64,
        size: PageSize,
        flags: Flags,
    ) -> Result<(), MapError> {
        self.check_va(va)?;
        if flags.user != (self.half == Half::User) {
            return Err(MapError::WrongPrivilege(va));
        }
        if !va.is_multiple_of(size.bytes()) {
            return Err(MapError::Misaligned(va));
        }
        if !pa.is_multiple_of(size.bytes()) {
            return Err(MapError::Misaligned(pa));
        }
        if pa & !ADDR_MASK != 0 {
            return Err(MapError::BadPhysical(pa));
        }
        let branch = PRESENT | WRITABLE | if flags.user { USER } else { 0 };
        let mut table = self.root;
        // The first link this call made (table, index, level): everything
        // below it is new too, and goes again if the call fails, so a
        // refused map leaves no table behind.
        let mut first_new: Option<(u64, usize, u32)> = None;
        for level in (size.leaf_level() + 1..=4).rev() {
            let i = index(va, level);
            let e = mem.read(table, i);
            table = if e & PRESENT == 0 {
                let Some(t) = mem.alloc_table() else {
                    if let Some(first) = first_new {
                        self.undo(mem, va, first);
                    }
                    return Err(MapError::OutOfMemory);
                };
                mem.write(table, i, t | branch);
                first_new.get_or_insert((table, i, level));
                t
            } else if e & HUGE != 0 && level < 4 {
                return Err(MapError::SizeConflict(va));
            } else {
                if flags.user && e & USER == 0 {
                    // A user branch must be user-accessible at every level.
                    mem.write(table, i, e | USER);
                    mem.flush(self.root, va, size.bytes());
                }
                e & ADDR_MASK
            };
        }
        let level = size.leaf_level();
        let i = index(va, level);
        let e = mem.read(table, i);
        if e & PRESENT != 0 {
            return Err(if level > 1 && e & HUGE == 0 {
                MapError::SizeConflict(va)
            } else {
                MapError::AlreadyMapped(va)
            });
        }
        mem.write(table, i, flags.leaf_bits(pa, level > 1));
        Ok(())
    }

    /// Unlinks and frees the tables a failed [`AddressSpace::map`] of `va`
    /// made: the one linked at `(parent, i)` of a level-`level` table and
    /// the chain below it (one entry each, on `va`'s path; the last one
    /// empty).
    #[cold]
    fn undo(&mut self, mem: &mut impl TableMemory, va: u64, (parent, i, level): (u64, usize, u32)) {
        let top = mem.read(parent, i) & ADDR_MASK;
        mem.write(parent, i, 0);
        // Paging-structure caches may hold the link: flush before freeing.
        mem.flush(self.root, va, PageSize::Size4K.bytes());
        let (mut t, mut l) = (top, level - 1);
        loop {
            let e = mem.read(t, index(va, l));
            mem.free_table(t);
            if e & PRESENT == 0 || l == 1 {
                break;
            }
            t = e & ADDR_MASK;
            l -= 1;
        }
    }

    /// The path to the leaf covering `va`: tables from the root down and the
    /// leaf level, or `None` if not mapped.
    fn walk(&self, mem: &impl TableMemory, va: u64) -> Option<([u64; 4], u32, u64)> {
        let mut tables = [0u64; 4];
        let mut table = self.root;
        for level in (1..=4).rev() {
            tables[(4 - level) as usize] = table;
            let e = mem.read(table, index(va, level));
            if e & PRESENT == 0 {
                return None;
            }
            if level == 1 || (e & HUGE != 0 && level <= 3) {
                return Some((tables, level, e));
            }
            table = e & ADDR_MASK;
        }
        None
    }

    /// Where `va` leads, with the effective permissions.
    pub fn translate(&self, mem: &impl TableMemory, va: u64) -> Option<Translation> {
        if !is_canonical(va) {
            return None;
        }
        let mut writable = true;
        let mut user = true;
        let mut nx = false;
        let mut table = self.root;
        for level in (1..=4).rev() {
            let e = mem.read(table, index(va, level));
            if e & PRESENT == 0 {
                return None;
            }
            writable &= e & WRITABLE != 0;
            user &= e & USER != 0;
            nx |= e & NO_EXECUTE != 0;
            if level == 1 || (e & HUGE != 0 && level <= 3) {
                let size = PageSize::at_level(level);
                let frame = e & ADDR_MASK & !(size.bytes() - 1);
                let offset = va & (size.bytes() - 1);
                let mut flags = Flags::from_leaf(e);
                flags.writable = writable;
                flags.user = user;
                flags.executable = !nx;
                return Some(Translation {
                    phys: frame + offset,
                    page: va - offset,
                    frame,
                    size,
                    flags,
                });
            }
            table = e & ADDR_MASK;
        }
        None
    }

    /// Removes the page starting at `va`; returns its frame and size.
    /// Intermediate tables left empty are freed.
    pub fn unmap(
        &mut self,
        mem: &mut impl TableMemory,
        va: u64,
    ) -> Result<(u64, PageSize), MapError> {
        self.unmap_leaf(mem, va)
            .map(|(frame, size, _)| (frame, size))
    }

    /// As [`AddressSpace::unmap`], also returning the leaf's own flags
    /// (with its [`Flags::soft`] bits).
    #[inline]
    pub fn unmap_leaf(
        &mut self,
        mem: &mut impl TableMemory,
        va: u64,
    ) -> Result<(u64, PageSize, Flags), MapError> {
        self.check_va(va)?;
        let (tables, level, e) = self.walk(mem, va).ok_or(MapError::NotMapped(va))?;
        let size = PageSize::at_level(level);
        if !va.is_multiple_of(size.bytes()) {
            return Err(MapError::NotPageStart(va));
        }
        let leaf_table = tables[(4 - level) as usize];
        mem.write(leaf_table, index(va, level), 0);
        // Unlink emptied tables bottom-up; never the root, and never the
        // kernel half's PDPTs, which all address spaces share.
        let keep_level = if self.half == Half::Kernel { 3 } else { 4 };
        let mut emptied = [0u64; 3];
        let mut n = 0;
        for l in level..keep_level {
            let t = tables[(4 - l) as usize];
            if (0..ENTRIES).any(|i| mem.read(t, i) & PRESENT != 0) {
                break;
            }
            let parent = tables[(4 - (l + 1)) as usize];
            mem.write(parent, index(va, l + 1), 0);
            emptied[n] = t;
            n += 1;
        }
        // Flush before freeing: paging-structure caches may still point
        // into the unlinked tables.
        mem.flush(self.root, va, size.bytes());
        for &t in &emptied[..n] {
            mem.free_table(t);
        }
        Ok((
            e & ADDR_MASK & !(size.bytes() - 1),
            size,
            Flags::from_leaf(e),
        ))
    }

    /// Changes the permissions of the page starting at `va`.
    pub fn protect(
        &mut self,
        mem: &mut impl TableMemory,
        va: u64,
        flags: Flags,
    ) -> Result<PageSize, MapError> {
        self.check_va(va)?;
        if flags.user != (self.half == Half::User) {
            return Err(MapError::WrongPrivilege(va));
        }
        let (tables, level, e) = self.walk(mem, va).ok_or(MapError::NotMapped(va))?;
        let size = PageSize::at_level(level);
        if !va.is_multiple_of(size.bytes()) {
            return Err(MapError::NotPageStart(va));
        }
        let frame = e & ADDR_MASK & !(size.bytes() - 1);
        mem.write(
            tables[(4 - level) as usize],
            index(va, level),
            flags.leaf_bits(frame, level > 1),
        );
        mem.flush(self.root, va, size.bytes());
        Ok(size)
    }

    /// Tears down a user address space: calls `leaf` for every mapped page
    /// (address, frame, size, the leaf's own flags), then frees every
    /// user-half table and the root. The kernel half (shared) is left alone.
    pub fn destroy(
        self,
        mem: &mut impl TableMemory,
        mut leaf: impl FnMut(u64, u64, PageSize, Flags),
    ) {
        if self.half == Half::User {
            for i in 0..ENTRIES / 2 {
                let e = mem.read(self.root, i);
                if e & PRESENT != 0 {
                    free_subtree(mem, e & ADDR_MASK, 3, (i as u64) << 39, &mut leaf);
                }
            }
            mem.flush(self.root, 0, USER_END);
        }
        mem.free_table(self.root);
    }

    /// Number of tables reachable in this space's half, root included
    /// (for leak checks).
    pub fn table_count(&self, mem: &impl TableMemory) -> usize {
        let range = match self.half {
            Half::User => 0..ENTRIES / 2,
            Half::Kernel => ENTRIES / 2..ENTRIES,
        };
        1 + range
            .filter_map(|i| {
                let e = mem.read(self.root, i);
                (e & PRESENT != 0).then(|| count_subtree(mem, e & ADDR_MASK, 3))
            })
            .sum::<usize>()
    }
}

fn free_subtree(
    mem: &mut impl TableMemory,
    table: u64,
    level: u32,
    base: u64,
    leaf: &mut impl FnMut(u64, u64, PageSize, Flags),
) {
    for i in 0..ENTRIES {
        let e = mem.read(table, i);
        if e & PRESENT == 0 {
            continue;
        }
        let va = base + ((i as u64) << (12 + 9 * (level - 1)));
        if level == 1 || e & HUGE != 0 {
            let size = PageSize::at_level(level);
            leaf(
                va,
                e & ADDR_MASK & !(size.bytes() - 1),
                size,
                Flags::from_leaf(e),
            );
        } else {
            free_subtree(mem, e & ADDR_MASK, level - 1, va, leaf);
        }
    }
    mem.free_table(table);
}

fn count_subtree(mem: &impl TableMemory, table: u64, level: u32) -> usize {
    if level == 1 {
        return 1;
    }
    1 + (0..ENTRIES)
        .filter_map(|i| {
            let e = mem.read(table, i);
            (e & PRESENT != 0 && e & HUGE == 0)
                .then(|| count_subtree(mem, e & ADDR_MASK, level - 1))
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests;
