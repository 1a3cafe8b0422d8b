//! x87 and SSE state, per thread.
//!
//! The kernel is built soft-float, so between two switches only the thread
//! that runs (in user mode) changes these registers. Every context switch
//! saves the outgoing thread's x87/SSE state (`fxsave64`, 512 bytes) and
//! loads the incoming one's (`fxrstor64`), so no thread sees another's
//! values and each finds its own as it left them. A new thread starts
//! from [`FpuState::INITIAL`]: registers zero, the default control words.
//!
//! AVX and the later XSAVE components are not enabled (`CR4.OSXSAVE` is
//! clear): their instructions raise #UD in every process on every CPU,
//! which ends the process. Enabling them means switching to XSAVE areas
//! sized by CPUID leaf 0xD.

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};

/// The `fxsave64` image: 512 bytes, 16-byte aligned.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// What a new thread starts with: FCW 0x037F (every x87 exception
    /// masked, 64-bit precision, round to nearest), MXCSR 0x1F80 (every
    /// SSE exception masked, round to nearest), all registers zero.
    pub const INITIAL: FpuState = {
        let mut b = [0u8; 512];
        // FCW, bytes 0..2.
        b[0] = 0x7f;
        b[1] = 0x03;
        // MXCSR, bytes 24..28.
        b[24] = 0x80;
        b[25] = 0x1f;
        FpuState(b)
    };
}

/// Sets the control bits the switch relies on, on each CPU during
/// bring-up: x87 present and used natively (`CR0.EM` clear, `CR0.MP` set,
/// `CR0.TS` clear, so no lazy-switch traps), `fxsave`/`fxrstor` and SSE
/// enabled with SSE exceptions as #XM (`CR4.OSFXSR`, `CR4.OSXMMEXCPT`),
/// and XSAVE-managed state off (`CR4.OSXSAVE` clear).
pub fn init_cpu() {
    // SAFETY: these bits only select how x87/SSE instructions behave; the
    // kernel itself executes none (soft-float), and user state is
    // saved and loaded by `switch` from here on.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| {
            f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
            f.remove(Cr4Flags::OSXSAVE);
        });
    }
    // Whatever the firmware left in the registers is not a thread's.
    load(&FpuState::INITIAL);
}

/// Saves the running thread's x87/SSE state into `into`.
pub fn save(into: &mut FpuState) {
    // SAFETY: `into` is a 512-byte, 16-byte aligned buffer we hold
    // exclusively (`&mut`); `fxsave64` writes exactly that and needs
    // CR4.OSFXSR, which `init_cpu` set on this CPU.
    unsafe {
        core::arch::asm!("fxsave64 [{}]", in(reg) into.0.as_mut_ptr(), options(nostack));
    }
}

/// Loads `from` into the x87/SSE registers.
pub fn load(from: &FpuState) {
    // SAFETY: `from` is a 512-byte, 16-byte aligned image made by
    // `fxsave64` or `INITIAL` (reserved MXCSR bits zero, so `fxrstor64`
    // cannot fault); it only reads that buffer and sets FPU registers.
    unsafe {
        core::arch::asm!("fxrstor64 [{}]", in(reg) from.0.as_ptr(), options(nostack, readonly));
    }
}
