//! Builds the kernel's initial 4-level page tables. Under UEFI physical
//! memory is identity-mapped, so a table's physical address is also a
//! pointer to it.

use crate::BootResult;
use alloc::format;
use ferrous_bootinfo::PHYS_OFFSET;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const HUGE: u64 = 1 << 7;
const GLOBAL: u64 = 1 << 8;
const NO_EXECUTE: u64 = 1 << 63;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

const GIB: u64 = 1 << 30;
const TWO_MIB: u64 = 2 << 20;
const PML4_SPAN: u64 = 512 * GIB;

/// Leaf permissions beyond "present, kernel-only".
#[derive(Clone, Copy)]
pub struct Perm {
    pub write: bool,
    pub execute: bool,
}

pub struct PageTables<F: FnMut() -> BootResult<u64>> {
    root: u64,
    alloc: F,
    pages: usize,
}

type Table = [u64; 512];

fn table(phys: u64) -> *mut Table {
    phys as *mut Table
}

impl<F: FnMut() -> BootResult<u64>> PageTables<F> {
    /// `alloc` returns a zeroed, page-aligned page.
    pub fn new(mut alloc: F) -> BootResult<Self> {
        let root = alloc()?;
        Ok(PageTables {
            root,
            alloc,
            pages: 1,
        })
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    pub fn pages_used(&self) -> usize {
        self.pages
    }

    /// The next-level table behind entry `index` of `parent`, created if absent.
    fn child(&mut self, parent: u64, index: usize) -> BootResult<u64> {
        // SAFETY: `parent` is a table page we allocated; index < 512.
        let entry = unsafe { &mut (*table(parent))[index] };
        if *entry & PRESENT == 0 {
            let page = (self.alloc)()?;
            self.pages += 1;
            // Intermediate levels grant everything; leaves restrict.
            *entry = page | PRESENT | WRITABLE;
        } else if *entry & HUGE != 0 {
            return Err(format!(
                "mapping conflict below a huge page (entry {index})"
            ));
        }
        Ok(*entry & ADDR_MASK)
    }

    fn indices(virt: u64) -> [usize; 4] {
        [39, 30, 21, 12].map(|shift| ((virt >> shift) & 0x1ff) as usize)
    }

    /// Maps one 4 KiB kernel page.
    pub fn map_4k(&mut self, virt: u64, phys: u64, perm: Perm) -> BootResult<()> {
        let [i4, i3, i2, i1] = Self::indices(virt);
        let pdpt = self.child(self.root, i4)?;
        let pd = self.child(pdpt, i3)?;
        let pt = self.child(pd, i2)?;
        let mut flags = PRESENT | GLOBAL;
        if perm.write {
            flags |= WRITABLE;
        }
        if !perm.execute {
            flags |= NO_EXECUTE;
        }
        // SAFETY: `pt` is a table page we allocated; i1 < 512.
        let entry = unsafe { &mut (*table(pt))[i1] };
        if *entry & PRESENT != 0 {
            return Err(format!("kernel page {virt:#x} mapped twice"));
        }
        *entry = phys | flags;
        Ok(())
    }

    /// Maps physical `[0, size)` at PHYS_OFFSET with 2 MiB pages, read-write
    /// and never executable, and the same range at 0 (identity) executable, for
    /// the hand-over only. Both halves share the lower-level tables; NX is set
    /// in the direct map's top-level entries so it applies to all below.
    pub fn map_direct(&mut self, size: u64) -> BootResult<()> {
        let base = Self::indices(PHYS_OFFSET)[0];
        let mut phys = 0;
        while phys < size {
            let [i4, i3, i2, _] = Self::indices(PHYS_OFFSET + phys);
            let pdpt = self.child(self.root, i4)?;
            let pd = self.child(pdpt, i3)?;
            // SAFETY: `pd` is a table page we allocated; i2 < 512.
            unsafe { (*table(pd))[i2] = phys | PRESENT | WRITABLE | HUGE };
            phys += TWO_MIB;
        }
        let slots = size.div_ceil(PML4_SPAN) as usize;
        for i in 0..slots {
            // SAFETY: the root is our table; base + i < 512 because the
            // direct map is at most 64 TiB (checked by the caller): 128 slots.
            unsafe {
                let root = &mut *table(self.root);
                root[i] = root[base + i];
                root[base + i] |= NO_EXECUTE;
            }
        }
        Ok(())
    }
}
