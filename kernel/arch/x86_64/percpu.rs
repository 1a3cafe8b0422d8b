//! Per-CPU data reached through the GS base: each CPU's slot holds its
//! logical index and APIC id. GS is set before anything else runs on a CPU.

use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::VirtAddr;
use x86_64::registers::model_specific::GsBase;

pub const MAX_CPUS: usize = 64;

#[repr(C)]
struct Slot {
    /// Address of this slot (so `gs:[0]` yields a pointer to it).
    this: AtomicU64,
    index: AtomicU64,
    apic_id: AtomicU64,
}

static SLOTS: [Slot; MAX_CPUS] = [const {
    Slot {
        this: AtomicU64::new(0),
        index: AtomicU64::new(0),
        apic_id: AtomicU64::new(0),
    }
}; MAX_CPUS];

/// Points this CPU's GS base at slot `index`.
pub fn init(index: usize, apic_id: u32) {
    let slot = &SLOTS[index];
    slot.this
        .store(slot as *const Slot as u64, Ordering::Relaxed);
    slot.index.store(index as u64, Ordering::Relaxed);
    slot.apic_id.store(apic_id as u64, Ordering::Relaxed);
    GsBase::write(VirtAddr::new(slot as *const Slot as u64));
}

/// This CPU's logical index (0 = bootstrap processor).
pub fn index() -> usize {
    let i: u64;
    // SAFETY: GS points at this CPU's slot from the first instructions of its
    // bring-up (`init`), and the slot is static; reading field 1 has no effects.
    unsafe {
        core::arch::asm!("mov {}, gs:[8]", out(reg) i, options(nostack, readonly, preserves_flags))
    };
    i as usize
}

/// The APIC id of CPU `index`.
pub fn apic_id_of(index: usize) -> u32 {
    SLOTS[index].apic_id.load(Ordering::Relaxed) as u32
}
