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

/// The executing CPU's logical index.
pub fn id() -> u32 {
    super::percpu::index() as u32
}

/// The executing CPU's initial APIC id, from CPUID.
pub fn initial_apic_id() -> u32 {
    __cpuid(1).ebx >> 24
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

/// Protection features the CPU offers and whether the kernel turned them on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub nxe: bool,
    pub write_protect: bool,
    pub smep_supported: bool,
    pub smep_enabled: bool,
    pub smap_supported: bool,
    pub smap_enabled: bool,
    pub umip_supported: bool,
    pub umip_enabled: bool,
}

static FEATURES: spin::Once<Features> = spin::Once::new();

/// Enables NXE, WP, and SMEP, SMAP, UMIP where CPUID offers them, and sets
/// up x87/SSE for per-thread state ([`super::fpu::init_cpu`]). Runs on each
/// CPU during bring-up; returns what is now on.
pub fn harden() -> Features {
    use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
    use x86_64::registers::model_specific::{Efer, EferFlags};
    let max_leaf = core::arch::x86_64::__cpuid(0).eax;
    let (ebx7, ecx7) = if max_leaf >= 7 {
        let r = core::arch::x86_64::__cpuid_count(7, 0);
        (r.ebx, r.ecx)
    } else {
        (0, 0)
    };
    let smep = ebx7 & (1 << 7) != 0;
    let smap = ebx7 & (1 << 20) != 0;
    let umip = ecx7 & (1 << 2) != 0;
    // SAFETY: NXE only makes the NX bit meaningful (the loader already set
    // it); WP makes read-only pages read-only for the kernel too. Neither
    // changes what memory is mapped.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
        Cr0::update(|f| f.insert(Cr0Flags::WRITE_PROTECT));
    }
    let mut cr4 = Cr4::read();
    cr4.set(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION, smep);
    cr4.set(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION, smap);
    cr4.set(Cr4Flags::USER_MODE_INSTRUCTION_PREVENTION, umip);
    // SAFETY: the kernel runs entirely from supervisor pages and touches user
    // memory only inside usercopy (stac/clac), so SMEP and SMAP only ever
    // stop bugs; UMIP only affects user mode.
    unsafe { Cr4::write(cr4) };
    let now = Cr4::read();
    let f = Features {
        nxe: Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE),
        write_protect: Cr0::read().contains(Cr0Flags::WRITE_PROTECT),
        smep_supported: smep,
        smep_enabled: now.contains(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION),
        smap_supported: smap,
        smap_enabled: now.contains(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION),
        umip_supported: umip,
        umip_enabled: now.contains(Cr4Flags::USER_MODE_INSTRUCTION_PREVENTION),
    };
    super::fpu::init_cpu();
    FEATURES.call_once(|| f);
    f
}

/// What `harden` turned on (all off before it ran).
pub fn features() -> Features {
    FEATURES.get().copied().unwrap_or_default()
}

/// Are interrupts enabled on this CPU?
pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

/// `sti; hlt` as one step: an interrupt arriving after `sti` still wakes
/// the `hlt` (the interrupt shadow covers it), so no wake-up is lost.
pub fn enable_interrupts_and_halt() {
    x86_64::instructions::interrupts::enable_and_hlt();
}
