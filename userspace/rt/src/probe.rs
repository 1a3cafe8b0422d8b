//! Register probes for isolation tests: write and read registers the
//! compiler never uses in user programs (they are built soft-float), so a
//! test can see whether another thread's values leak into them or its own
//! are lost across a switch.

/// Puts `v` in the low half of `xmm0` (the upper half becomes zero).
pub fn xmm0_write(v: u64) {
    // SAFETY: user programs are compiled soft-float (x86_64-unknown-none),
    // so no Rust code keeps a value in xmm0; `movq` only writes xmm0 and
    // touches no memory. SSE is enabled in every process (docs/ABI.md).
    unsafe {
        core::arch::asm!("movq xmm0, {}", in(reg) v, options(nomem, nostack, preserves_flags));
    }
}

/// The low half of `xmm0`.
pub fn xmm0_read() -> u64 {
    let v: u64;
    // SAFETY: as for `xmm0_write`; `movq` only reads xmm0.
    unsafe {
        core::arch::asm!("movq {}, xmm0", out(reg) v, options(nomem, nostack, preserves_flags));
    }
    v
}

/// The SSE control and status register (MXCSR).
pub fn mxcsr_read() -> u32 {
    let mut v: u32 = 0;
    // SAFETY: `stmxcsr` stores 4 bytes to the local `v`, which outlives
    // the instruction; it changes no register.
    unsafe {
        core::arch::asm!("stmxcsr [{}]", in(reg) &mut v as *mut u32, options(nostack, preserves_flags));
    }
    v
}
