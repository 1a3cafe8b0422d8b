//! Starting application processors: INIT-SIPI-SIPI into a real-mode
//! trampoline copied below 1 MiB, which climbs through protected mode into
//! long mode on a temporary address space that identity-maps its page, then
//! jumps to `ap_entry` in the kernel half.

use super::{apic, cpu, gdt, idt, mm, percpu, time};
use core::sync::atomic::{AtomicBool, Ordering};

// Layout of the trampoline page: a short jump over a data block at fixed
// offsets (the LLVM assembler takes no label arithmetic in memory operands),
// then the code.
const OFF_GDT: u64 = 8; // 4 descriptors
const OFF_GDTR: u64 = 40; // limit (2 bytes) + base (4)
const OFF_CR3: u64 = 48;
const OFF_STACK: u64 = 56;
const OFF_ENTRY: u64 = 64;
const OFF_ARG: u64 = 72;
const OFF_FAR32: u64 = 80; // offset (4) + selector (2)
const OFF_FAR64: u64 = 88;

core::arch::global_asm!(
    ".section .text",
    ".balign 16",
    "ferrous_ap_trampoline:",
    ".code16",
    "    jmp tramp_code",
    ".balign 8",
    // 8: GDT: null, 32-bit code (0x08), data (0x10), 64-bit code (0x18)
    "    .quad 0",
    "    .quad 0x00cf9a000000ffff",
    "    .quad 0x00cf92000000ffff",
    "    .quad 0x00af9a000000ffff",
    // 40: GDTR; 48: cr3; 56: stack; 64: entry; 72: arg; 80/88: far pointers
    "    .word 31",
    "    .long 0",
    "    .word 0",
    "    .quad 0, 0, 0, 0",
    "    .long 0",
    "    .word 0x08, 0",
    "    .long 0",
    "    .word 0x18, 0",
    "tramp_code:",
    "    cli",
    "    cld",
    "    mov ax, cs",
    "    mov ds, ax",
    "    movzx ebx, ax",
    "    shl ebx, 4",
    "    lgdt [40]",
    // Protected mode on; caches on (INIT leaves CR0.CD and CR0.NW set).
    "    mov eax, cr0",
    "    and eax, 0x9fffffff",
    "    or eax, 1",
    "    mov cr0, eax",
    // jmp far dword [80]  (66 FF /5, disp16)
    "    .byte 0x66, 0xff, 0x2e",
    "    .word 80",
    ".code32",
    "tramp_pm32:",
    "    mov ax, 0x10",
    "    mov ds, ax",
    "    mov es, ax",
    "    mov ss, ax",
    "    mov eax, cr4",
    "    or eax, 0xa0",
    "    mov cr4, eax",
    "    mov eax, [ebx + 48]",
    "    mov cr3, eax",
    "    mov ecx, 0xc0000080",
    "    rdmsr",
    "    or eax, 0x900",
    "    wrmsr",
    "    mov eax, cr0",
    "    or eax, 0x80010000",
    "    mov cr0, eax",
    // jmp far [ebx + 88]  (FF /5, mod=10 rm=ebx, disp32)
    "    .byte 0xff, 0xab",
    "    .long 88",
    ".code64",
    "tramp_lm64:",
    "    mov ebx, ebx",
    "    mov rsp, [rbx + 56]",
    "    mov rdi, [rbx + 72]",
    "    mov rax, [rbx + 64]",
    "    xor ebp, ebp",
    // `call`, so ap_entry starts with the stack alignment the ABI expects.
    "    call rax",
    "    ud2",
    "ferrous_ap_trampoline_end:",
    ".section .rodata",
    ".balign 8",
    "FERROUS_AP_TRAMPOLINE:",
    ".quad ferrous_ap_trampoline, ferrous_ap_trampoline_end - ferrous_ap_trampoline",
    ".quad tramp_pm32 - ferrous_ap_trampoline, tramp_lm64 - ferrous_ap_trampoline",
    ".section .text",
);

unsafe extern "C" {
    /// [start, len, offset of the 32-bit code, offset of the 64-bit code]
    static FERROUS_AP_TRAMPOLINE: [u64; 4];
}

/// What an AP needs to start; owned by the portable SMP code.
pub struct ApStart {
    pub index: usize,
    pub apic_id: u32,
    /// Tops of the double-fault, NMI and machine-check stacks.
    pub ist: [u64; 3],
    /// The kernel's page-table root, loaded once the AP runs in the kernel half.
    pub kernel_root: u64,
    pub started: AtomicBool,
    /// Where the AP continues once its CPU tables are loaded.
    pub main: fn(&'static ApStart) -> !,
}

/// Busy-waits `us` microseconds on the calibrated TSC.
pub fn delay_us(us: u64) {
    let end = cpu::tsc() + time::tsc_hz() / 1_000_000 * us;
    while cpu::tsc() < end {
        core::hint::spin_loop();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApError {
    /// The trampoline page or the temporary root is out of reach of 16/32-bit code.
    BadTrampoline,
    /// The AP never reported in.
    NoResponse,
}

/// Starts the AP `start.apic_id`: copies the trampoline to `low_page`
/// (below 1 MiB, identity-mapped executable in the address space `root`,
/// which also maps the kernel half), points it at `stack_top` and waits up
/// to a second for the AP to set `start.started`.
pub fn boot_ap(
    low_page: u64,
    root: u64,
    stack_top: u64,
    start: &'static ApStart,
) -> Result<(), ApError> {
    if low_page >= 0x10_0000 || !low_page.is_multiple_of(4096) || root >= 1 << 32 {
        return Err(ApError::BadTrampoline);
    }
    // SAFETY: an immutable table of label addresses and offsets defined above.
    let [code, len, pm32, lm64] = unsafe { FERROUS_AP_TRAMPOLINE };
    if len > 4096 {
        return Err(ApError::BadTrampoline);
    }
    let dst = mm::phys_to_virt(low_page);
    let put32 = |off: u64, v: u32| {
        // SAFETY: `off` is inside the trampoline (< len <= 4096) copied into
        // the low page, which the caller reserved for this purpose.
        unsafe { ((dst + off) as *mut u32).write_unaligned(v) }
    };
    let put64 = |off: u64, v: u64| {
        // SAFETY: as for `put32`.
        unsafe { ((dst + off) as *mut u64).write_unaligned(v) }
    };
    // SAFETY: copies `len` bytes of the trampoline's code (in kernel text)
    // into the reserved low page through the direct map; no overlap.
    unsafe { core::ptr::copy_nonoverlapping(code as *const u8, dst as *mut u8, len as usize) };
    put32(OFF_FAR32, (low_page + pm32) as u32);
    put32(OFF_FAR64, (low_page + lm64) as u32);
    put32(OFF_GDTR + 2, (low_page + OFF_GDT) as u32);
    put64(OFF_CR3, root);
    put64(OFF_STACK, stack_top);
    put64(OFF_ENTRY, ap_entry as *const () as u64);
    put64(OFF_ARG, start as *const ApStart as u64);

    apic::send_init(start.apic_id);
    delay_us(10_000);
    for _ in 0..2 {
        apic::send_startup(start.apic_id, (low_page >> 12) as u8);
        delay_us(200);
    }
    let deadline = cpu::tsc() + time::tsc_hz();
    while cpu::tsc() < deadline {
        if start.started.load(Ordering::Acquire) {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(ApError::NoResponse)
}

/// First Rust code on an AP (running on its boot stack in the kernel half).
extern "C" fn ap_entry(arg: u64) -> ! {
    // SAFETY: `arg` is the `&'static ApStart` that `boot_ap` stored in the
    // trampoline; it lives in the kernel heap, mapped in every address space.
    let start: &'static ApStart = unsafe { &*(arg as *const ApStart) };
    percpu::init(start.index, start.apic_id);
    gdt::init_ap(start.ist);
    idt::load();
    super::user::init_cpu();
    mm::switch_root(start.kernel_root);
    cpu::harden();
    (start.main)(start)
}
