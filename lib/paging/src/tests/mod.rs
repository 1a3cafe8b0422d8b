//! Page-table logic on simulated physical memory.
use super::*;
use std::collections::{BTreeMap, HashMap};

mod props;

/// Tables in a hash map; frames handed out from a counter; optional limit.
#[derive(Default)]
struct Sim {
    tables: HashMap<u64, [u64; ENTRIES]>,
    next: u64,
    limit: Option<usize>,
    freed: usize,
    flushes: Vec<(u64, u64)>,
}

impl Sim {
    fn new() -> Sim {
        Sim {
            next: 0x10_0000,
            ..Sim::default()
        }
    }
    fn live(&self) -> usize {
        self.tables.len()
    }
}

impl TableMemory for Sim {
    fn read(&self, table: u64, index: usize) -> u64 {
        self.tables
            .get(&table)
            .expect("read of a table that does not exist")[index]
    }
    fn write(&mut self, table: u64, index: usize, value: u64) {
        self.tables
            .get_mut(&table)
            .expect("write to a table that does not exist")[index] = value;
    }
    fn alloc_table(&mut self) -> Option<u64> {
        if self.limit.is_some_and(|l| self.tables.len() >= l) {
            return None;
        }
        let t = self.next;
        self.next += 0x1000;
        self.tables.insert(t, [0; ENTRIES]);
        Some(t)
    }
    fn free_table(&mut self, table: u64) {
        assert!(
            self.tables.remove(&table).is_some(),
            "double free of table {table:#x}"
        );
        self.freed += 1;
    }
    fn flush(&mut self, _root: u64, va: u64, len: u64) {
        self.flushes.push((va, len));
    }
}

fn kernel(mem: &mut Sim) -> AddressSpace {
    let root = mem.alloc_table().unwrap();
    AddressSpace::from_root(root, Half::Kernel)
}

const K: u64 = KERNEL_START + 0x40_0000_0000;

#[test]
fn map_translate_unmap_round_trip() {
    let mut mem = Sim::new();
    let mut ks = kernel(&mut mem);
    ks.map(&mut mem, K, 0x5000, PageSize::Size4K, Flags::KERNEL_RW)
        .unwrap();
    let t = ks.translate(&mem, K + 0x123).unwrap();
    assert_eq!(
        (t.phys, t.page, t.frame, t.size),
        (0x5123, K, 0x5000, PageSize::Size4K)
    );
    assert!(t.flags.writable && !t.flags.executable && !t.flags.user);
    assert_eq!(mem.live(), 4);
    assert_eq!(ks.unmap(&mut mem, K), Ok((0x5000, PageSize::Size4K)));
    assert_eq!(ks.translate(&mem, K), None);
    assert_eq!(mem.flushes, [(K, 4096)]);
    // PT and PD freed; the kernel-half PDPT stays (shared by all spaces).
    assert_eq!(mem.live(), 2);
}

#[test]
fn huge_pages() {
    let mut mem = Sim::new();
    let mut ks = kernel(&mut mem);
    let two_m = PageSize::Size2M.bytes();
    assert_eq!(
        ks.map(&mut mem, K + 4096, 0, PageSize::Size2M, Flags::KERNEL_RW),
        Err(MapError::Misaligned(K + 4096))
    );
    ks.map(&mut mem, K, 4 * two_m, PageSize::Size2M, Flags::KERNEL_RX)
        .unwrap();
    let t = ks.translate(&mem, K + 0x1234).unwrap();
    assert_eq!((t.phys, t.size), (4 * two_m + 0x1234, PageSize::Size2M));
    assert!(t.flags.executable && !t.flags.writable);
    // A 4 KiB page inside the 2 MiB page conflicts.
    assert_eq!(
        ks.map(
            &mut mem,
            K + 4096,
            0x9000,
            PageSize::Size4K,
            Flags::KERNEL_RW
        ),
        Err(MapError::SizeConflict(K + 4096))
    );
    assert_eq!(
        ks.unmap(&mut mem, K + 4096),
        Err(MapError::NotPageStart(K + 4096))
    );
    assert_eq!(ks.unmap(&mut mem, K), Ok((4 * two_m, PageSize::Size2M)));
    // And a 2 MiB page over existing 4 KiB pages conflicts.
    ks.map(
        &mut mem,
        K + 4096,
        0x9000,
        PageSize::Size4K,
        Flags::KERNEL_RW,
    )
    .unwrap();
    assert_eq!(
        ks.map(&mut mem, K, 0, PageSize::Size2M, Flags::KERNEL_RW),
        Err(MapError::SizeConflict(K))
    );
}

#[test]
fn protect_changes_permissions_and_flushes() {
    let mut mem = Sim::new();
    let mut ks = kernel(&mut mem);
    ks.map(&mut mem, K, 0x7000, PageSize::Size4K, Flags::KERNEL_RW)
        .unwrap();
    assert_eq!(
        ks.protect(&mut mem, K, Flags::KERNEL_RO),
        Ok(PageSize::Size4K)
    );
    let t = ks.translate(&mem, K).unwrap();
    assert!(!t.flags.writable && t.frame == 0x7000);
    assert_eq!(mem.flushes, [(K, 4096)]);
    assert_eq!(
        ks.protect(&mut mem, K + 4096, Flags::KERNEL_RO),
        Err(MapError::NotMapped(K + 4096))
    );
}

#[test]
fn halves_and_privileges_are_enforced() {
    let mut mem = Sim::new();
    let mut ks = kernel(&mut mem);
    let mut us = AddressSpace::new_user(&mut mem, &ks).unwrap();
    let f = PageSize::Size4K;
    assert_eq!(
        ks.map(&mut mem, 0x1000, 0, f, Flags::KERNEL_RW),
        Err(MapError::WrongHalf(0x1000))
    );
    assert_eq!(
        ks.map(&mut mem, K, 0, f, Flags::USER_RW),
        Err(MapError::WrongPrivilege(K))
    );
    assert_eq!(
        us.map(&mut mem, K, 0, f, Flags::USER_RW),
        Err(MapError::WrongHalf(K))
    );
    assert_eq!(
        us.map(&mut mem, 0x1000, 0, f, Flags::KERNEL_RW),
        Err(MapError::WrongPrivilege(0x1000))
    );
    let bad = 0x0000_8000_0000_0000;
    assert_eq!(
        us.map(&mut mem, bad, 0, f, Flags::USER_RW),
        Err(MapError::NonCanonical(bad))
    );
    assert_eq!(
        us.map(&mut mem, 0x1000, 1 << 53, f, Flags::USER_RW),
        Err(MapError::BadPhysical(1 << 53))
    );
    us.map(&mut mem, 0x1000, 0x3000, f, Flags::USER_RX).unwrap();
    let t = us.translate(&mem, 0x1000).unwrap();
    assert!(t.flags.user && t.flags.executable && !t.flags.writable);
    assert_eq!(
        us.map(&mut mem, 0x1000, 0x4000, f, Flags::USER_RW),
        Err(MapError::AlreadyMapped(0x1000))
    );
}

#[test]
fn user_spaces_share_the_kernel_half() {
    let mut mem = Sim::new();
    let mut ks = kernel(&mut mem);
    ks.map(&mut mem, K, 0x8000, PageSize::Size4K, Flags::KERNEL_RW)
        .unwrap();
    let us = AddressSpace::new_user(&mut mem, &ks).unwrap();
    // The kernel page is visible through the user root, as kernel-only.
    let t = us.translate(&mem, K).unwrap();
    assert_eq!(t.frame, 0x8000);
    assert!(!t.flags.user);
    // A later kernel mapping under the same top-level slot is shared too.
    ks.map(
        &mut mem,
        K + 0x20_0000,
        0x9000,
        PageSize::Size4K,
        Flags::KERNEL_RO,
    )
    .unwrap();
    assert_eq!(us.translate(&mem, K + 0x20_0000).unwrap().frame, 0x9000);
}

#[test]
fn destroy_returns_every_page_and_table() {
    let mut mem = Sim::new();
    let ks = kernel(&mut mem);
    let before = mem.live();
    let mut us = AddressSpace::new_user(&mut mem, &ks).unwrap();
    for i in 0..20u64 {
        us.map(
            &mut mem,
            0x40_0000 + i * 0x1000,
            0x10_0000 + i * 0x1000,
            PageSize::Size4K,
            Flags::USER_RW,
        )
        .unwrap();
    }
    us.map(
        &mut mem,
        0x7f_0000_0000,
        0x4000_0000,
        PageSize::Size2M,
        Flags::USER_RO,
    )
    .unwrap();
    let mut pages = Vec::new();
    us.destroy(&mut mem, |va, pa, size, _| pages.push((va, pa, size)));
    assert_eq!(pages.len(), 21);
    assert!(pages.contains(&(0x7f_0000_0000, 0x4000_0000, PageSize::Size2M)));
    assert_eq!(
        mem.live(),
        before,
        "every user table freed, kernel tables kept"
    );
}

#[test]
fn out_of_memory_is_an_error_and_leaves_state_consistent() {
    let mut mem = Sim::new();
    let mut ks = kernel(&mut mem);
    mem.limit = Some(2);
    assert_eq!(
        ks.map(&mut mem, K, 0x1000, PageSize::Size4K, Flags::KERNEL_RW),
        Err(MapError::OutOfMemory)
    );
    assert_eq!(ks.translate(&mem, K), None);
    mem.limit = None;
    ks.map(&mut mem, K, 0x1000, PageSize::Size4K, Flags::KERNEL_RW)
        .unwrap();
}

#[test]
fn non_canonical_translate_is_none() {
    let mut mem = Sim::new();
    let ks = kernel(&mut mem);
    assert_eq!(ks.translate(&mem, 0x1234_0000_0000_0000), None);
}

#[test]
fn soft_bits_stay_with_the_leaf_and_the_mmu_ignores_them() {
    let mut mem = Sim::new();
    let ks = kernel(&mut mem);
    let mut us = AddressSpace::new_user(&mut mem, &ks).unwrap();
    let va = 0x40_0000;
    let rw = Flags::USER_RW.with_soft(0b101);
    us.map(&mut mem, va, 0x5000, PageSize::Size4K, rw).unwrap();
    let t = us.translate(&mem, va).unwrap();
    assert_eq!(t.flags.soft, 0b101);
    assert!(t.flags.writable && !t.flags.executable);
    // Only bits 9..12 differ from the same leaf without them.
    let with = rw.leaf_bits(0x5000, false);
    let without = Flags::USER_RW.leaf_bits(0x5000, false);
    assert_eq!(with ^ without, 0b101 << entry::SOFT_SHIFT);
    // Bits above the three never reach the entry.
    assert_eq!(
        Flags::USER_RW.with_soft(0xff).leaf_bits(0, false) & !entry::SOFT_MASK,
        without & !0x5000
    );
    // protect writes what it is given, soft bits included.
    us.protect(&mut mem, va, Flags::USER_RO.with_soft(0b010))
        .unwrap();
    assert_eq!(us.translate(&mem, va).unwrap().flags.soft, 0b010);
    let (pa, size, flags) = us.unmap_leaf(&mut mem, va).unwrap();
    assert_eq!(
        (pa, size, flags.soft, flags.writable),
        (0x5000, PageSize::Size4K, 0b010, false)
    );
    us.map(
        &mut mem,
        va,
        0x6000,
        PageSize::Size4K,
        Flags::USER_RO.with_soft(0b001),
    )
    .unwrap();
    let mut seen = Vec::new();
    us.destroy(&mut mem, |va, pa, _, f| seen.push((va, pa, f.soft)));
    assert_eq!(seen, [(va, 0x6000, 0b001)]);
}

#[test]
fn a_refused_map_leaves_no_table_behind() {
    let mut mem = Sim::new();
    let ks = kernel(&mut mem);
    let mut us = AddressSpace::new_user(&mut mem, &ks).unwrap();
    let before = mem.live();
    // The root exists; a page at 1 GiB needs a PDPT, a directory and a
    // table. Allow only two of them: the map fails on the third.
    mem.limit = Some(before + 2);
    assert_eq!(
        us.map(
            &mut mem,
            0x4000_0000,
            0x1000,
            PageSize::Size4K,
            Flags::USER_RW
        ),
        Err(MapError::OutOfMemory)
    );
    assert_eq!(mem.live(), before, "the two tables it made are freed");
    assert_eq!(us.table_count(&mem), 1, "and unlinked");
    mem.limit = None;
    us.map(
        &mut mem,
        0x4000_0000,
        0x1000,
        PageSize::Size4K,
        Flags::USER_RW,
    )
    .unwrap();
    assert_eq!(us.table_count(&mem), 4);
}
