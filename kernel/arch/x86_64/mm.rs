//! Physical memory through the direct map, the TLB and CR3: the hardware
//! half of memory management. Policy lives in `kernel/src/mm`.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_bootinfo::PHYS_OFFSET;
use ferrous_frames::FrameMeta;
use ferrous_paging::TableMemory;
use x86_64::registers::control::{Cr3, Cr3Flags, Cr4, Cr4Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::{PhysAddr, VirtAddr};

/// Bytes of physical memory the direct map covers (set once at boot).
static DIRECT_MAP_SIZE: AtomicU64 = AtomicU64::new(0);

pub(super) fn set_direct_map_size(bytes: u64) {
    DIRECT_MAP_SIZE.store(bytes, Ordering::Relaxed);
}

pub fn direct_map_size() -> u64 {
    DIRECT_MAP_SIZE.load(Ordering::Relaxed)
}

/// The direct-map address of physical `pa`.
pub fn phys_to_virt(pa: u64) -> u64 {
    PHYS_OFFSET + pa
}

fn frame_ok(pa: u64) -> bool {
    pa.is_multiple_of(4096) && pa.saturating_add(4096) <= direct_map_size()
}

/// Fills a frame with zeroes. The caller must own the frame (it came from
/// the frame allocator); frames outside the direct map are refused.
pub fn zero_frame(pa: u64) {
    assert!(frame_ok(pa), "zero_frame({pa:#x}) outside the direct map");
    // SAFETY: the frame is inside the direct map (checked) and owned by the
    // caller, who got it from the frame allocator.
    unsafe { core::ptr::write_bytes(phys_to_virt(pa) as *mut u8, 0, 4096) };
}

static META_CLAIMED: AtomicBool = AtomicBool::new(false);

/// Hands out the frame allocator's metadata array, once: `count` entries at
/// physical `pa`, zeroed. `pa` must lie in RAM the allocator will never
/// manage (the caller carves it out of a usable region before adding that).
pub fn claim_frame_meta(pa: u64, count: usize) -> Option<&'static mut [FrameMeta]> {
    let bytes = (count as u64).checked_mul(size_of::<FrameMeta>() as u64)?;
    let end = pa.checked_add(bytes)?;
    if !pa.is_multiple_of(4096)
        || end > direct_map_size()
        || META_CLAIMED.swap(true, Ordering::SeqCst)
    {
        return None;
    }
    let ptr = phys_to_virt(pa) as *mut FrameMeta;
    // SAFETY: the range is inside the direct map and page aligned (checked),
    // claimed only once (the flag above), and zeroed before use; FrameMeta is
    // plain data whose all-zero value is valid ("not managed").
    unsafe {
        core::ptr::write_bytes(ptr as *mut u8, 0, bytes as usize);
        Some(core::slice::from_raw_parts_mut(ptr, count))
    }
}

/// Physical address of the active top-level table.
pub fn current_root() -> u64 {
    Cr3::read().0.start_address().as_u64()
}

/// Switches to the address space rooted at `root`. The caller (mm) only
/// passes roots of live address spaces that share the kernel half.
pub fn switch_root(root: u64) {
    let frame = PhysFrame::containing_address(PhysAddr::new(root));
    // SAFETY: `root` is a live top-level table whose upper half is the
    // kernel's, so the code and stack in use stay mapped across the switch.
    unsafe { Cr3::write(frame, Cr3Flags::empty()) };
}

/// Pages above which a flush drops the whole TLB instead of `invlpg`s.
const INVLPG_LIMIT: u64 = 32;

/// The one TLB invalidation function: flushes this CPU (if `root` is active
/// here, or the range is in the shared kernel half) and shoots the range
/// down on every other online CPU.
pub fn flush_tlb(root: u64, va: u64, len: u64) {
    let kernel = va >= PHYS_OFFSET;
    if kernel || root == current_root() {
        flush_local(va, len);
    }
    // Until address spaces track the CPUs they are active on, every change
    // is broadcast.
    crate::mm::shootdown::broadcast(va, len);
}

/// Flushes `[va, va + len)` from this CPU's TLB only.
pub fn flush_local(va: u64, len: u64) {
    let pages = len.div_ceil(4096);
    if pages <= INVLPG_LIMIT {
        for i in 0..pages {
            x86_64::instructions::tlb::flush(VirtAddr::new_truncate(va + i * 4096));
        }
    } else {
        // Toggling CR4.PGE drops global (kernel) entries as well.
        let cr4 = Cr4::read();
        // SAFETY: clearing and restoring PGE only flushes the TLB.
        unsafe {
            Cr4::write(cr4 - Cr4Flags::PAGE_GLOBAL);
            Cr4::write(cr4);
        }
    }
}

/// Page tables reached through the direct map; table frames come from the
/// frame allocator through `alloc` / `free`.
pub struct KernelTables {
    pub alloc: fn() -> Option<u64>,
    pub free: fn(u64),
}

impl KernelTables {
    fn entry(table: u64, index: usize) -> *mut u64 {
        assert!(
            frame_ok(table) && index < 512,
            "page table {table:#x}[{index}] is not a table"
        );
        (phys_to_virt(table) + index as u64 * 8) as *mut u64
    }
}

impl TableMemory for KernelTables {
    fn read(&self, table: u64, index: usize) -> u64 {
        // SAFETY: `entry` checked that the table frame is in the direct map;
        // page-table frames are only ever reached through this type.
        unsafe { Self::entry(table, index).read_volatile() }
    }

    fn write(&mut self, table: u64, index: usize, value: u64) {
        // SAFETY: as in `read`; the paging crate writes only entries of
        // tables it reached from a root owned by mm.
        unsafe { Self::entry(table, index).write_volatile(value) }
    }

    fn alloc_table(&mut self) -> Option<u64> {
        let pa = (self.alloc)()?;
        zero_frame(pa);
        Some(pa)
    }

    fn free_table(&mut self, table: u64) {
        (self.free)(table)
    }

    fn flush(&mut self, root: u64, va: u64, len: u64) {
        flush_tlb(root, va, len)
    }
}

/// Reads a u64 through the direct map (for tests that compare a mapping
/// with the frame behind it).
pub fn read_phys_u64(pa: u64) -> u64 {
    assert!(pa.is_multiple_of(8) && pa + 8 <= direct_map_size());
    // SAFETY: inside the direct map (checked), aligned, any bits are a valid u64.
    unsafe { (phys_to_virt(pa) as *const u64).read_volatile() }
}

/// Copies `bytes` into the frame at `pa`, starting `offset` bytes in. The
/// caller owns the frame (it just took it from the frame allocator); the
/// range must fit in the frame and the direct map (checked).
pub fn copy_to_frame(pa: u64, offset: usize, bytes: &[u8]) {
    assert!(
        frame_ok(pa) && offset + bytes.len() <= 4096,
        "copy_to_frame({pa:#x}, {offset}, {})",
        bytes.len()
    );
    // SAFETY: the destination lies inside one frame of the direct map
    // (checked) that the caller owns; `bytes` is kernel memory elsewhere.
    unsafe {
        core::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (phys_to_virt(pa) + offset as u64) as *mut u8,
            bytes.len(),
        )
    }
}
