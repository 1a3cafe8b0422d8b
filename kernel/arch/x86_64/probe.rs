//! Deliberate memory accesses for the memory-management test scenarios.
//! Each probe checks first that the access is harmless: either it targets
//! the scratch test region, or the page tables say it must fault.

use super::mm;
use core::ops::Range;

/// Writes `value` at `va`, which must lie in `scratch` (a region only tests use).
pub fn scratch_write(scratch: &Range<u64>, va: u64, value: u64) {
    assert!(scratch.contains(&va) && va.is_multiple_of(8));
    // SAFETY: the scratch region is owned by the running test; if `va` is
    // unmapped the page-fault handler reports it (nothing is corrupted).
    unsafe { (va as *mut u64).write_volatile(value) }
}

pub fn scratch_read(scratch: &Range<u64>, va: u64) -> u64 {
    assert!(scratch.contains(&va) && va.is_multiple_of(8));
    // SAFETY: as in `scratch_write`; a read has no side effects.
    unsafe { (va as *const u64).read_volatile() }
}

/// Writes to `va`, which `writable` (the caller's page-table lookup) says is
/// read-only, so the write must fault and never lands.
pub fn write_must_fault(va: u64, writable: bool) {
    assert!(!writable, "refusing to write to writable memory at {va:#x}");
    assert!(
        x86_64::registers::control::Cr0::read()
            .contains(x86_64::registers::control::Cr0Flags::WRITE_PROTECT)
    );
    // SAFETY: the page is read-only and CR0.WP is set, so the CPU raises #PF
    // before any byte changes.
    unsafe { (va as *mut u8).write_volatile(0xcc) }
}

/// Jumps to `va`, which `executable` says is no-execute, so the fetch must fault.
pub fn execute_must_fault(va: u64, executable: bool) {
    assert!(!executable, "refusing to execute at {va:#x}");
    // SAFETY: the page is NX (EFER.NXE is on), so the instruction fetch
    // raises #PF before anything at `va` runs.
    unsafe {
        let f: extern "C" fn() = core::mem::transmute(va as *const ());
        f();
    }
}

/// Reads user memory at `va` without `stac`: with SMAP on this must fault.
pub fn user_read_without_stac(va: u64) -> u8 {
    assert!(va < ferrous_paging::USER_END);
    assert!(
        super::cpu::features().smap_enabled,
        "SMAP is off; the read would succeed"
    );
    let _ = mm::current_root();
    // SAFETY: SMAP is enabled and AC is clear, so reading a user page from
    // ring 0 raises #PF; nothing is read.
    unsafe { (va as *const u8).read_volatile() }
}

/// Calls user address `va` from ring 0: with SMEP on this must fault.
pub fn execute_user_must_fault(va: u64) {
    assert!(va < ferrous_paging::USER_END);
    assert!(
        super::cpu::features().smep_enabled,
        "SMEP is off; the call would run user code"
    );
    // SAFETY: SMEP is enabled, so fetching an instruction from a user page in
    // ring 0 raises #PF; nothing at `va` runs.
    unsafe {
        let f: extern "C" fn() = core::mem::transmute(va as *const ());
        f();
    }
}
