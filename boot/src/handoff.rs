//! The last instructions the loader runs.

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; CR4.TSD is clear under UEFI.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Switches to the kernel's page tables and jumps to its entry point with the
/// BootInfo address in `rdi` (System V first argument). Interrupts stay off;
/// the kernel sets up its own stack, GDT and IDT.
///
/// # Safety
/// Boot services must have been exited. `pml4` must map the kernel image at
/// its link address, the direct map, and (identity) the page this code runs
/// from; `entry` must be the kernel's validated entry point.
pub unsafe fn enter_kernel(pml4: u64, entry: u64, boot_info: u64) -> ! {
    // SAFETY: per the contract above. EFER.NXE must be set before the new
    // tables (which use the NX bit) are loaded; CR0.WP makes read-only kernel
    // pages read-only for the kernel too. Inputs sit in registers the
    // sequence does not clobber (rdmsr/wrmsr use eax, ecx, edx).
    unsafe {
        core::arch::asm!(
            "cli",
            "mov ecx, 0xC0000080",
            "rdmsr",
            "or eax, 1 << 11",
            "wrmsr",
            "mov rax, cr0",
            "or rax, 1 << 16",
            "mov cr0, rax",
            "mov cr3, r8",
            "jmp r9",
            in("r8") pml4,
            in("r9") entry,
            in("rdi") boot_info,
            options(noreturn)
        )
    }
}

/// Tells QEMU's `isa-debug-exit` device (port 0xf4) that the loader stopped:
/// QEMU exits with status (0x12 << 1) | 1 = 37. Elsewhere the port is unused
/// and the write has no effect; the caller powers off next.
pub fn signal_loader_stop() {
    // SAFETY: an I/O port write with no memory effects; see above.
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") 0xf4u16, in("eax") 0x12u32, options(nomem, nostack))
    };
}
