//! Memory management: physical frames, the kernel address space, the heap
//! and guarded kernel stacks. Hardware access goes through `arch::mm`; the
//! allocator and page-table logic are the host-tested `ferrous-frames` and
//! `ferrous-paging` crates.
//!
//! Kernel virtual layout (upper half):
//!
//! | start                   | what                                   |
//! |-------------------------|----------------------------------------|
//! | `0xffff_8000_0000_0000` | direct map of physical memory          |
//! | `0xffff_c000_0000_0000` | kernel heap (grows on demand)          |
//! | `0xffff_c080_0000_0000` | kernel stacks, 128 KiB slots with guard |
//! | `0xffff_c100_0000_0000` | scratch region for test scenarios      |
//! | `0xffff_ffff_8000_0000` | kernel image                           |

pub mod frames;
pub mod heap;
pub mod kspace;
pub mod shootdown;
pub mod stacks;
pub mod uspace;

use crate::arch::{self, BootData};
use core::fmt;
use core::ops::Range;
use ferrous_bootinfo::PHYS_OFFSET;
use ferrous_paging::{Flags, Translation, USER_END};

pub const HEAP_BASE: u64 = 0xffff_c000_0000_0000;
/// The heap may grow to this many bytes of virtual space.
pub const HEAP_MAX: u64 = 64 << 30;
pub const STACKS_BASE: u64 = 0xffff_c080_0000_0000;
pub const SCRATCH: Range<u64> = 0xffff_c100_0000_0000..0xffff_c100_4000_0000;

/// What the boot-time memory report says.
#[derive(Clone, Copy, Debug)]
pub struct MemReport {
    pub managed_frames: u64,
    pub free_frames_at_init: u64,
    pub meta_bytes: u64,
}

/// Brings up frames and the kernel address space, and hardens the CPU. (The
/// heap needs no set-up: it grows on first use.)
pub fn init(boot: &BootData) -> Result<MemReport, &'static str> {
    let report = frames::init(boot)?;
    kspace::init()?;
    let f = arch::cpu::harden();
    log::info!(
        "cpu protections: NXE {} WP {} SMEP {} SMAP {} UMIP {}",
        on(f.nxe),
        on(f.write_protect),
        offered(f.smep_supported, f.smep_enabled),
        offered(f.smap_supported, f.smap_enabled),
        offered(f.umip_supported, f.umip_enabled)
    );
    Ok(report)
}

fn on(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn offered(supported: bool, enabled: bool) -> &'static str {
    match (supported, enabled) {
        (_, true) => "on",
        (true, false) => "OFF (offered!)",
        (false, false) => "not offered",
    }
}

/// Which part of the address space an address belongs to, for fault reports.
pub enum Region {
    User,
    NonCanonical,
    DirectMap,
    Heap,
    Stack(&'static str),
    StackGuard(&'static str),
    Scratch,
    KernelText,
    KernelRodata,
    KernelData,
    Unassigned,
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::User => f.write_str("user half"),
            Region::NonCanonical => f.write_str("non-canonical address"),
            Region::DirectMap => f.write_str("direct map"),
            Region::Heap => f.write_str("kernel heap"),
            Region::Stack(n) => write!(f, "kernel stack of {n}"),
            Region::StackGuard(n) => write!(f, "guard page of the kernel stack of {n}"),
            Region::Scratch => f.write_str("scratch test region"),
            Region::KernelText => f.write_str("kernel text"),
            Region::KernelRodata => f.write_str("kernel read-only data"),
            Region::KernelData => f.write_str("kernel data/bss"),
            Region::Unassigned => f.write_str("unassigned kernel address"),
        }
    }
}

pub fn region_of(va: u64) -> Region {
    let s = arch::image::sections();
    if va < USER_END {
        Region::User
    } else if !ferrous_paging::is_canonical(va) {
        Region::NonCanonical
    } else if s.text.contains(&va) {
        Region::KernelText
    } else if s.rodata.contains(&va) {
        Region::KernelRodata
    } else if s.data.contains(&va) {
        Region::KernelData
    } else if (HEAP_BASE..HEAP_BASE + HEAP_MAX).contains(&va) {
        Region::Heap
    } else if let Some(r) = stacks::region_of(va) {
        r
    } else if SCRATCH.contains(&va) {
        Region::Scratch
    } else if (PHYS_OFFSET..PHYS_OFFSET + arch::mm::direct_map_size()).contains(&va) {
        Region::DirectMap
    } else {
        Region::Unassigned
    }
}

/// One line describing `va` for a fault report: its region and mapping.
pub struct Describe(pub u64);

impl fmt::Display for Describe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; ", region_of(self.0))?;
        match kspace::translate_current(self.0) {
            Some(Some(Translation {
                frame, size, flags, ..
            })) => write!(f, "mapped {:?} page -> frame {frame:#x}, {flags}", size),
            Some(None) => f.write_str("no mapping"),
            None => f.write_str("mapping unknown (page tables busy)"),
        }
    }
}

/// Flags for a fresh kernel data page.
pub const KERNEL_DATA: Flags = Flags::KERNEL_RW;

/// Logs what the kernel holds after boot and what is free.
pub fn report_usage(boot: &crate::Boot) {
    use ferrous_bootinfo::MemoryKind;
    let st = frames::stats();
    let heap = heap::stats();
    let kib = |frames: u64| frames * frames::FRAME_SIZE / 1024;
    let image = boot.map.bytes(MemoryKind::KERNEL_IMAGE) / 1024;
    let loader_tables = boot.map.bytes(MemoryKind::PAGE_TABLES) / 1024;
    let boot_info = boot.map.bytes(MemoryKind::BOOT_INFO) / 1024;
    let meta = boot.mem.meta_bytes / 1024;
    let dynamic = kib(st.allocated_total());
    log::info!(
        "memory at boot: kernel uses {} KiB (image {image}, loader page tables {loader_tables}, boot info {boot_info}, frame metadata {meta}, allocated frames {dynamic}: heap {} / page tables {} / stacks {})",
        image + loader_tables + boot_info + meta + dynamic,
        kib(st.allocated(FrameKind::KernelHeap)),
        kib(st.allocated(FrameKind::PageTable)),
        kib(st.allocated(FrameKind::KernelStack)),
    );
    log::info!(
        "memory free: {} KiB of {} KiB managed; heap {} KiB mapped, {} bytes in use",
        kib(st.free),
        kib(st.total),
        heap.size / 1024,
        heap.used
    );
}

use frames::FrameKind;
