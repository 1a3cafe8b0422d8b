//! The IDT and the 32 CPU exception entry points. Every exception is
//! decoded and reported; for now all of them are fatal (user-mode faults
//! will be routed to their process once user space exists).

use super::{backtrace, gdt, qemu, usercopy};
use core::fmt::Write;
use spin::Once;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::{VirtAddr, registers::control::Cr2};

/// Register state saved by `exc_common`, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

// One stub per vector: push a dummy error code where the CPU pushes none,
// push the vector, join the common path. The frame is 16-byte aligned at
// the `call` (CPU frame 40 + code 8 + vector 8 + 15 registers 120 = 176).
core::arch::global_asm!(
    ".macro EXC_NOERR n",
    "exc_stub_\\n:",
    "    push 0",
    "    push \\n",
    "    jmp exc_common",
    ".endm",
    ".macro EXC_ERR n",
    "exc_stub_\\n:",
    "    push \\n",
    "    jmp exc_common",
    ".endm",
    ".section .text",
    "EXC_NOERR 0", "EXC_NOERR 1", "EXC_NOERR 2", "EXC_NOERR 3",
    "EXC_NOERR 4", "EXC_NOERR 5", "EXC_NOERR 6", "EXC_NOERR 7",
    "EXC_ERR 8", "EXC_NOERR 9", "EXC_ERR 10", "EXC_ERR 11",
    "EXC_ERR 12", "EXC_ERR 13", "EXC_ERR 14", "EXC_NOERR 15",
    "EXC_NOERR 16", "EXC_ERR 17", "EXC_NOERR 18", "EXC_NOERR 19",
    "EXC_NOERR 20", "EXC_ERR 21", "EXC_NOERR 22", "EXC_NOERR 23",
    "EXC_NOERR 24", "EXC_NOERR 25", "EXC_NOERR 26", "EXC_NOERR 27",
    "EXC_NOERR 28", "EXC_ERR 29", "EXC_ERR 30", "EXC_NOERR 31",
    "exc_common:",
    "    push rax", "push rbx", "push rcx", "push rdx", "push rsi", "push rdi", "push rbp",
    "    push r8", "push r9", "push r10", "push r11", "push r12", "push r13", "push r14", "push r15",
    "    mov rdi, rsp",
    "    cld",
    "    call {dispatch}",
    "    pop r15", "pop r14", "pop r13", "pop r12", "pop r11", "pop r10", "pop r9", "pop r8",
    "    pop rbp", "pop rdi", "pop rsi", "pop rdx", "pop rcx", "pop rbx", "pop rax",
    "    add rsp, 16",
    "    iretq",
    ".section .rodata",
    ".balign 8",
    ".global FERROUS_EXC_STUBS",
    "FERROUS_EXC_STUBS:",
    ".quad exc_stub_0, exc_stub_1, exc_stub_2, exc_stub_3, exc_stub_4, exc_stub_5, exc_stub_6, exc_stub_7",
    ".quad exc_stub_8, exc_stub_9, exc_stub_10, exc_stub_11, exc_stub_12, exc_stub_13, exc_stub_14, exc_stub_15",
    ".quad exc_stub_16, exc_stub_17, exc_stub_18, exc_stub_19, exc_stub_20, exc_stub_21, exc_stub_22, exc_stub_23",
    ".quad exc_stub_24, exc_stub_25, exc_stub_26, exc_stub_27, exc_stub_28, exc_stub_29, exc_stub_30, exc_stub_31",
    ".section .text",
    dispatch = sym exception_dispatch,
);

unsafe extern "C" {
    static FERROUS_EXC_STUBS: [u64; 32];
}

/// An interrupt gate in long mode.
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const MISSING: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        attributes: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    /// Present, DPL 0, 64-bit interrupt gate (interrupts masked on entry),
    /// on IST stack `ist` (0 = the current stack).
    fn interrupt(handler: u64, selector: u16, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector,
            ist,
            attributes: 0x8e,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

static IDT: Once<Idt> = Once::new();

pub fn init() {
    let idt = IDT.call_once(|| {
        let cs = gdt::kernel_code().0;
        let mut gates = [Gate::MISSING; 256];
        // SAFETY: FERROUS_EXC_STUBS is an immutable table defined in the
        // assembly above, 32 code addresses long.
        let stubs = unsafe { &FERROUS_EXC_STUBS };
        for (vector, (gate, &stub)) in gates.iter_mut().zip(stubs).enumerate() {
            let ist = match vector {
                2 => gdt::IST_NMI,
                8 => gdt::IST_DOUBLE_FAULT,
                18 => gdt::IST_MACHINE_CHECK,
                _ => 0,
            };
            *gate = Gate::interrupt(stub, cs, ist);
        }
        Idt(gates)
    });
    let ptr = DescriptorTablePointer {
        limit: (size_of::<Idt>() - 1) as u16,
        base: VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the IDT lives in a static for the kernel's lifetime and every
    // present gate points at a stub that saves state and calls the dispatcher.
    unsafe { lidt(&ptr) };
}

/// Architectural names of the exception vectors.
pub fn vector_name(vector: u64) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        9 => ("--", "coprocessor segment overrun"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection"),
        28 => ("#HV", "hypervisor injection"),
        29 => ("#VC", "VMM communication"),
        30 => ("#SX", "security exception"),
        _ => ("--", "reserved"),
    }
}

extern "C" fn exception_dispatch(frame: &mut ExceptionFrame) {
    if frame.vector == 14 {
        let addr = Cr2::read_raw();
        if let Some(resume) = usercopy::fixup_for(frame.rip, addr) {
            frame.rip = resume;
            return;
        }
    }
    report_fatal(frame)
}

/// Decodes the #PF error code: who, what access, why.
fn describe_page_fault(e: u64) -> (&'static str, &'static str, &'static str) {
    (
        if e & 4 != 0 { "user" } else { "kernel" },
        if e & 16 != 0 {
            "instruction fetch"
        } else if e & 2 != 0 {
            "write"
        } else {
            "read"
        },
        if e & 8 != 0 {
            "reserved bit set in a page-table entry"
        } else if e & 1 != 0 {
            "protection violation"
        } else {
            "page not present"
        },
    )
}

fn report_fatal(frame: &ExceptionFrame) -> ! {
    let (mnemonic, name) = vector_name(frame.vector);
    let mut out = crate::console::PanicWriter::take();
    let mode = if frame.cs & 3 == 3 { "user" } else { "kernel" };
    let cr2 = Cr2::read_raw();
    // A double fault whose CR2 is a stack guard page is a stack overflow:
    // the #PF for the guard could not push its frame on the full stack.
    if frame.vector == 8
        && let Some(name) = crate::mm::stacks::guard_hit(cr2)
    {
        let _ = writeln!(
            out,
            "\nKERNEL STACK OVERFLOW: kernel stack overflow in {name} (guard page {cr2:#018x} hit, rsp {:#018x})",
            frame.rsp
        );
    }
    let _ = writeln!(
        out,
        "\nEXCEPTION {mnemonic} {name} (vector {}) on cpu{} in {mode} mode",
        frame.vector,
        super::cpu::id()
    );
    let _ = writeln!(
        out,
        "  error code {:#x}  rip {:#018x}  cs {:#x}  rflags {:#x}  rsp {:#018x}  ss {:#x}",
        frame.error_code, frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss
    );
    let _ = writeln!(out, "  rip is in {}", crate::mm::Describe(frame.rip));
    if frame.vector == 14 {
        let (who, access, why) = describe_page_fault(frame.error_code);
        let _ = writeln!(
            out,
            "  page fault at {cr2:#018x}: {who} {access} access, {why}"
        );
        let _ = writeln!(out, "  address is in {}", crate::mm::Describe(cr2));
        let f = super::cpu::features();
        if who == "kernel" && cr2 < ferrous_paging::USER_END && why == "protection violation" {
            if access == "instruction fetch" && f.smep_enabled {
                let _ = writeln!(out, "  (SMEP: the kernel may not execute user pages)");
            } else if f.smap_enabled {
                let _ = writeln!(
                    out,
                    "  (SMAP: the kernel touched a user page outside usercopy)"
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "  rax {:#x} rbx {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x} rbp {:#x}",
        frame.rax, frame.rbx, frame.rcx, frame.rdx, frame.rsi, frame.rdi, frame.rbp
    );
    backtrace::print(&mut out, frame.rip, frame.rbp);
    qemu::exit(qemu::ExitCode::Failure)
}
