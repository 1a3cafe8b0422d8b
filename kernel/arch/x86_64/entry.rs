//! Kernel entry: the loader jumps to `_start` with the BootInfo address in
//! `rdi`, on its own stack, with interrupts off and our page tables live.

use super::{boot, cpu, gdt, idt, serial};

const BOOT_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(4096))]
struct Stack([u8; BOOT_STACK_SIZE]);

/// The bootstrap processor's first stack (in .bss). Kernel threads get
/// guarded stacks once the memory manager exists.
static mut BOOT_STACK: Stack = Stack([0; BOOT_STACK_SIZE]);

/// Bounds of the boot stack, for the stack walker.
pub fn boot_stack() -> core::ops::Range<u64> {
    let base = (&raw const BOOT_STACK) as u64;
    base..base + BOOT_STACK_SIZE as u64
}

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    "    cli",
    "    cld",
    "    lea rsp, [rip + {stack} + {size}]",
    "    xor ebp, ebp",
    "    call {main}",
    "    ud2",
    stack = sym BOOT_STACK,
    size = const BOOT_STACK_SIZE,
    main = sym arch_start,
);

/// First Rust code: console, CPU tables, then the portable kernel.
extern "C" fn arch_start(boot_info: u64) -> ! {
    cpu::record_entry_tsc();
    super::percpu::init(0, cpu::initial_apic_id());
    serial::init();
    gdt::init();
    idt::init();
    super::user::init_cpu();
    let data = boot::take(boot_info);
    crate::kmain(data)
}

/// Moves the current CPU onto the kernel stack whose top is `top` and calls
/// `f` there; the old stack is abandoned. `top` must be the top of a stack
/// from `mm::stacks` (checked).
pub fn run_on_stack(top: u64, f: fn() -> !) -> ! {
    assert!(
        crate::mm::stacks::is_top(top),
        "run_on_stack: {top:#x} is not the top of a kernel stack"
    );
    // SAFETY: `top` is the top of a mapped, otherwise unused kernel stack
    // (checked above); `f` never returns, so nothing refers to the old
    // stack's frames afterwards. rbp = 0 ends the frame chain.
    unsafe {
        core::arch::asm!(
            "mov rsp, {top}",
            "xor ebp, ebp",
            "call {f}",
            "ud2",
            top = in(reg) top,
            f = in(reg) f,
            options(noreturn)
        )
    }
}
