//! The I/O permission bitmap: which ports ring 3 may reach with `in` and
//! `out` on this CPU. Each CPU's TSS is followed by a bitmap of all 65,536
//! ports (a set bit refuses the port, and the CPU raises #GP), every bit
//! set at boot. The portable kernel (`crate::ports`) clears the bits of the
//! ranges the running process enabled and sets them again when another
//! process runs; ring 0 is never checked against it.

use core::mem::size_of;
use x86_64::structures::gdt::Descriptor;
use x86_64::structures::tss::TaskStateSegment;

/// Bytes of the bitmap proper: one bit per port.
const BITMAP_BYTES: usize = 65_536 / 8;

/// A TSS with its I/O permission bitmap right behind it, as the CPU reads
/// it: `iomap_base` is the bitmap's offset, and the byte after the bitmap
/// must be all ones.
#[repr(C)]
pub(super) struct TssIo {
    pub(super) tss: TaskStateSegment,
    bitmap: [u8; BITMAP_BYTES + 1],
}

impl TssIo {
    pub(super) const fn new() -> TssIo {
        let mut tss = TaskStateSegment::new();
        tss.iomap_base = size_of::<TaskStateSegment>() as u16;
        TssIo {
            tss,
            bitmap: [0xff; BITMAP_BYTES + 1],
        }
    }

    /// The TSS descriptor, with a limit that covers the bitmap.
    pub(super) fn descriptor(this: &'static TssIo) -> Descriptor {
        Descriptor::tss_segment_with_iomap(&this.tss, &this.bitmap)
            .expect("the bitmap follows its TSS and ends in 0xff")
    }
}

/// Lets ring 3 on this CPU use ports `base..base + count` (`allow`), or
/// refuses them again. Interrupts must be off (the CPU cannot change
/// under the call).
pub fn set(base: u16, count: u32, allow: bool) {
    let tss = super::percpu::tss();
    if tss == 0 {
        return;
    }
    let bitmap = (tss as usize + size_of::<TaskStateSegment>()) as *mut u8;
    let end = (u32::from(base) + count).min(65_536);
    for port in u32::from(base)..end {
        let (byte, bit) = ((port / 8) as usize, 1u8 << (port % 8));
        // SAFETY: `tss` is this CPU's `TssIo` (static or leaked, never
        // freed), so `byte` < BITMAP_BYTES lies in its bitmap. Only this
        // CPU writes its bitmap, with interrupts off; the CPU reads it only
        // for an `in` or `out` in ring 3 on this CPU, which cannot run
        // during this write.
        unsafe {
            let at = bitmap.add(byte);
            let v = at.read_volatile();
            at.write_volatile(if allow { v & !bit } else { v | bit });
        }
    }
}
