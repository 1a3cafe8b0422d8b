//! Taking over from the loader: check the BootInfo header, drop the
//! loader's identity mapping, and expose the hand-over data as safe slices.

use ferrous_bootinfo::{BootInfo, MemoryRegion, Module, PHYS_OFFSET, PhysSlice};
use x86_64::registers::control::Cr3;

/// The loader's hand-over, as checked references into the direct map.
#[derive(Clone, Copy)]
pub struct BootData {
    pub info: &'static BootInfo,
    pub memory_map: &'static [MemoryRegion],
    pub modules: &'static [Module],
    /// The command line, or a placeholder if the loader's bytes are not UTF-8.
    pub cmdline: &'static str,
}

/// Largest array the kernel accepts from the loader, in bytes (sanity bound;
/// boot modules are the big ones).
const MAX_BYTES: u64 = 256 << 20;

/// Plain data for which every bit pattern is a valid value, so a loader
/// array can be viewed as a slice of it without validation of each byte.
/// Sealed: implemented here, for the BootInfo payload types only.
trait Pod: Copy {}
impl Pod for u8 {}
// Integers and byte arrays; `kind` is a u32 newtype, not an enum.
impl Pod for MemoryRegion {}
// Byte array, integers.
impl Pod for Module {}

/// Converts a loader-described array to a slice, refusing anything outside
/// the direct map or absurdly long.
fn slice<T: Pod>(s: PhysSlice, direct_map_size: u64) -> Option<&'static [T]> {
    if s.len == 0 {
        return Some(&[]);
    }
    let bytes = s.len.checked_mul(size_of::<T>() as u64)?;
    let end = s.phys.checked_add(bytes)?;
    if bytes > MAX_BYTES || end > direct_map_size || !s.phys.is_multiple_of(align_of::<T>() as u64)
    {
        return None;
    }
    // SAFETY: the range lies inside the direct map (checked above), is
    // aligned for T, lives in boot-info or module memory that nothing frees, and T is
    // plain data for which any bit pattern is valid.
    Some(unsafe { core::slice::from_raw_parts((PHYS_OFFSET + s.phys) as *const T, s.len as usize) })
}

pub(super) fn take(boot_info_virt: u64) -> BootData {
    if boot_info_virt < PHYS_OFFSET || !boot_info_virt.is_multiple_of(8) {
        panic!("loader passed BootInfo at {boot_info_virt:#x}, outside the direct map");
    }
    // SAFETY: the loader placed a BootInfo at this direct-map address (the
    // header check below rejects anything else that happens to be there);
    // BootInfo is plain integers, valid for any bit pattern.
    let info: &'static BootInfo = unsafe { &*(boot_info_virt as *const BootInfo) };
    if let Err(e) = info.check_header() {
        panic!("BootInfo refused: {e}");
    }
    drop_identity_map();
    let dm = info.direct_map_size;
    super::mm::set_direct_map_size(dm);
    let memory_map = slice(info.memory_map, dm).expect("BootInfo memory map out of bounds");
    let modules = slice(info.modules, dm).expect("BootInfo module table out of bounds");
    let cmdline = slice::<u8>(info.cmdline, dm).expect("BootInfo command line out of bounds");
    BootData {
        info,
        memory_map,
        modules,
        cmdline: core::str::from_utf8(cmdline).unwrap_or("<command line is not UTF-8>"),
    }
}

/// Clears the lower half of the PML4, which the loader identity-mapped only
/// to survive its CR3 switch. From here on, low addresses fault.
fn drop_identity_map() {
    let (frame, flags) = Cr3::read();
    let pml4 = (PHYS_OFFSET + frame.start_address().as_u64()) as *mut u64;
    for i in 0..256 {
        // SAFETY: the PML4 is a page reached through the direct map; entries
        // 0..256 cover only the identity map, which nothing uses any more
        // (we run on the kernel stack in the upper half).
        unsafe { pml4.add(i).write_volatile(0) };
    }
    // SAFETY: reloading the same root flushes the stale lower-half TLB entries.
    unsafe { Cr3::write(frame, flags) };
}

impl BootData {
    /// The contents of boot module `m` (through the direct map), or `None`
    /// if the loader described it outside the direct map.
    pub fn module_bytes(&self, m: &Module) -> Option<&'static [u8]> {
        slice::<u8>(
            PhysSlice {
                phys: m.phys,
                len: m.len,
            },
            self.info.direct_map_size,
        )
    }

    pub fn module(&self, name: &str) -> Option<&'static [u8]> {
        let m = self.modules.iter().find(|m| m.name() == name)?;
        self.module_bytes(m)
    }
}
