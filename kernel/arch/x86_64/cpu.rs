//! Small CPU primitives: time stamp, CPU id, halting, interrupt masking.

use core::arch::x86_64::{__cpuid, _rdtsc};
use core::sync::atomic::{AtomicU64, Ordering};

/// TSC at kernel entry; log timestamps count from here.
static ENTRY_TSC: AtomicU64 = AtomicU64::new(0);

pub(super) fn record_entry_tsc() {
    ENTRY_TSC.store(tsc(), Ordering::Relaxed);
}

/// The raw time-stamp counter.
pub fn tsc() -> u64 {
    // SAFETY: RDTSC only reads a counter; the kernel never sets CR4.TSD for itself.
    unsafe { _rdtsc() }
}

/// TSC cycles since kernel entry.
pub fn tsc_since_entry() -> u64 {
    tsc().wrapping_sub(ENTRY_TSC.load(Ordering::Relaxed))
}

/// TSC value recorded at kernel entry.
pub fn entry_tsc() -> u64 {
    ENTRY_TSC.load(Ordering::Relaxed)
}

/// The executing CPU's initial APIC id (until per-CPU data exists).
pub fn id() -> u32 {
    let r = __cpuid(1);
    r.ebx >> 24
}

/// Stops this CPU for good: interrupts off, then `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// Runs `f` with interrupts masked, restoring the previous state after.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(f)
}

/// Raises an invalid-opcode exception (for the exception-report scenario).
pub fn trigger_invalid_opcode() {
    // SAFETY: `ud2` raises #UD, which the IDT handles; no memory is touched.
    unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
}
