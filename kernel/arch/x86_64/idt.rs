//! The IDT: entry points for all 256 vectors. The 32 CPU exceptions are
//! decoded: in kernel mode they are reported and fatal, in user mode they
//! end only the faulting process (`process::user_fault`); vectors 32..=255
//! go to `crate::irq`. Frames from ring 3 get the kernel's GS by `swapgs`.

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
    // Interrupt vectors 32..=255 (no error code).
    "EXC_NOERR 32", "EXC_NOERR 33", "EXC_NOERR 34", "EXC_NOERR 35", "EXC_NOERR 36", "EXC_NOERR 37", "EXC_NOERR 38", "EXC_NOERR 39",
    "EXC_NOERR 40", "EXC_NOERR 41", "EXC_NOERR 42", "EXC_NOERR 43", "EXC_NOERR 44", "EXC_NOERR 45", "EXC_NOERR 46", "EXC_NOERR 47",
    "EXC_NOERR 48", "EXC_NOERR 49", "EXC_NOERR 50", "EXC_NOERR 51", "EXC_NOERR 52", "EXC_NOERR 53", "EXC_NOERR 54", "EXC_NOERR 55",
    "EXC_NOERR 56", "EXC_NOERR 57", "EXC_NOERR 58", "EXC_NOERR 59", "EXC_NOERR 60", "EXC_NOERR 61", "EXC_NOERR 62", "EXC_NOERR 63",
    "EXC_NOERR 64", "EXC_NOERR 65", "EXC_NOERR 66", "EXC_NOERR 67", "EXC_NOERR 68", "EXC_NOERR 69", "EXC_NOERR 70", "EXC_NOERR 71",
    "EXC_NOERR 72", "EXC_NOERR 73", "EXC_NOERR 74", "EXC_NOERR 75", "EXC_NOERR 76", "EXC_NOERR 77", "EXC_NOERR 78", "EXC_NOERR 79",
    "EXC_NOERR 80", "EXC_NOERR 81", "EXC_NOERR 82", "EXC_NOERR 83", "EXC_NOERR 84", "EXC_NOERR 85", "EXC_NOERR 86", "EXC_NOERR 87",
    "EXC_NOERR 88", "EXC_NOERR 89", "EXC_NOERR 90", "EXC_NOERR 91", "EXC_NOERR 92", "EXC_NOERR 93", "EXC_NOERR 94", "EXC_NOERR 95",
    "EXC_NOERR 96", "EXC_NOERR 97", "EXC_NOERR 98", "EXC_NOERR 99", "EXC_NOERR 100", "EXC_NOERR 101", "EXC_NOERR 102", "EXC_NOERR 103",
    "EXC_NOERR 104", "EXC_NOERR 105", "EXC_NOERR 106", "EXC_NOERR 107", "EXC_NOERR 108", "EXC_NOERR 109", "EXC_NOERR 110", "EXC_NOERR 111",
    "EXC_NOERR 112", "EXC_NOERR 113", "EXC_NOERR 114", "EXC_NOERR 115", "EXC_NOERR 116", "EXC_NOERR 117", "EXC_NOERR 118", "EXC_NOERR 119",
    "EXC_NOERR 120", "EXC_NOERR 121", "EXC_NOERR 122", "EXC_NOERR 123", "EXC_NOERR 124", "EXC_NOERR 125", "EXC_NOERR 126", "EXC_NOERR 127",
    "EXC_NOERR 128", "EXC_NOERR 129", "EXC_NOERR 130", "EXC_NOERR 131", "EXC_NOERR 132", "EXC_NOERR 133", "EXC_NOERR 134", "EXC_NOERR 135",
    "EXC_NOERR 136", "EXC_NOERR 137", "EXC_NOERR 138", "EXC_NOERR 139", "EXC_NOERR 140", "EXC_NOERR 141", "EXC_NOERR 142", "EXC_NOERR 143",
    "EXC_NOERR 144", "EXC_NOERR 145", "EXC_NOERR 146", "EXC_NOERR 147", "EXC_NOERR 148", "EXC_NOERR 149", "EXC_NOERR 150", "EXC_NOERR 151",
    "EXC_NOERR 152", "EXC_NOERR 153", "EXC_NOERR 154", "EXC_NOERR 155", "EXC_NOERR 156", "EXC_NOERR 157", "EXC_NOERR 158", "EXC_NOERR 159",
    "EXC_NOERR 160", "EXC_NOERR 161", "EXC_NOERR 162", "EXC_NOERR 163", "EXC_NOERR 164", "EXC_NOERR 165", "EXC_NOERR 166", "EXC_NOERR 167",
    "EXC_NOERR 168", "EXC_NOERR 169", "EXC_NOERR 170", "EXC_NOERR 171", "EXC_NOERR 172", "EXC_NOERR 173", "EXC_NOERR 174", "EXC_NOERR 175",
    "EXC_NOERR 176", "EXC_NOERR 177", "EXC_NOERR 178", "EXC_NOERR 179", "EXC_NOERR 180", "EXC_NOERR 181", "EXC_NOERR 182", "EXC_NOERR 183",
    "EXC_NOERR 184", "EXC_NOERR 185", "EXC_NOERR 186", "EXC_NOERR 187", "EXC_NOERR 188", "EXC_NOERR 189", "EXC_NOERR 190", "EXC_NOERR 191",
    "EXC_NOERR 192", "EXC_NOERR 193", "EXC_NOERR 194", "EXC_NOERR 195", "EXC_NOERR 196", "EXC_NOERR 197", "EXC_NOERR 198", "EXC_NOERR 199",
    "EXC_NOERR 200", "EXC_NOERR 201", "EXC_NOERR 202", "EXC_NOERR 203", "EXC_NOERR 204", "EXC_NOERR 205", "EXC_NOERR 206", "EXC_NOERR 207",
    "EXC_NOERR 208", "EXC_NOERR 209", "EXC_NOERR 210", "EXC_NOERR 211", "EXC_NOERR 212", "EXC_NOERR 213", "EXC_NOERR 214", "EXC_NOERR 215",
    "EXC_NOERR 216", "EXC_NOERR 217", "EXC_NOERR 218", "EXC_NOERR 219", "EXC_NOERR 220", "EXC_NOERR 221", "EXC_NOERR 222", "EXC_NOERR 223",
    "EXC_NOERR 224", "EXC_NOERR 225", "EXC_NOERR 226", "EXC_NOERR 227", "EXC_NOERR 228", "EXC_NOERR 229", "EXC_NOERR 230", "EXC_NOERR 231",
    "EXC_NOERR 232", "EXC_NOERR 233", "EXC_NOERR 234", "EXC_NOERR 235", "EXC_NOERR 236", "EXC_NOERR 237", "EXC_NOERR 238", "EXC_NOERR 239",
    "EXC_NOERR 240", "EXC_NOERR 241", "EXC_NOERR 242", "EXC_NOERR 243", "EXC_NOERR 244", "EXC_NOERR 245", "EXC_NOERR 246", "EXC_NOERR 247",
    "EXC_NOERR 248", "EXC_NOERR 249", "EXC_NOERR 250", "EXC_NOERR 251", "EXC_NOERR 252", "EXC_NOERR 253", "EXC_NOERR 254", "EXC_NOERR 255",
    "exc_common:",
    // From ring 3 (saved CS at rsp+24 has RPL 3): take the kernel's GS.
    "    test qword ptr [rsp + 24], 3",
    "    jz 1f",
    "    swapgs",
    "1:",
    "    push rax", "push rbx", "push rcx", "push rdx", "push rsi", "push rdi", "push rbp",
    "    push r8", "push r9", "push r10", "push r11", "push r12", "push r13", "push r14", "push r15",
    "    mov rdi, rsp",
    "    cld",
    "    call {dispatch}",
    "    pop r15", "pop r14", "pop r13", "pop r12", "pop r11", "pop r10", "pop r9", "pop r8",
    "    pop rbp", "pop rdi", "pop rsi", "pop rdx", "pop rcx", "pop rbx", "pop rax",
    "    test qword ptr [rsp + 24], 3",
    "    jz 2f",
    "    swapgs",
    "2:",
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
    ".quad exc_stub_32, exc_stub_33, exc_stub_34, exc_stub_35, exc_stub_36, exc_stub_37, exc_stub_38, exc_stub_39",
    ".quad exc_stub_40, exc_stub_41, exc_stub_42, exc_stub_43, exc_stub_44, exc_stub_45, exc_stub_46, exc_stub_47",
    ".quad exc_stub_48, exc_stub_49, exc_stub_50, exc_stub_51, exc_stub_52, exc_stub_53, exc_stub_54, exc_stub_55",
    ".quad exc_stub_56, exc_stub_57, exc_stub_58, exc_stub_59, exc_stub_60, exc_stub_61, exc_stub_62, exc_stub_63",
    ".quad exc_stub_64, exc_stub_65, exc_stub_66, exc_stub_67, exc_stub_68, exc_stub_69, exc_stub_70, exc_stub_71",
    ".quad exc_stub_72, exc_stub_73, exc_stub_74, exc_stub_75, exc_stub_76, exc_stub_77, exc_stub_78, exc_stub_79",
    ".quad exc_stub_80, exc_stub_81, exc_stub_82, exc_stub_83, exc_stub_84, exc_stub_85, exc_stub_86, exc_stub_87",
    ".quad exc_stub_88, exc_stub_89, exc_stub_90, exc_stub_91, exc_stub_92, exc_stub_93, exc_stub_94, exc_stub_95",
    ".quad exc_stub_96, exc_stub_97, exc_stub_98, exc_stub_99, exc_stub_100, exc_stub_101, exc_stub_102, exc_stub_103",
    ".quad exc_stub_104, exc_stub_105, exc_stub_106, exc_stub_107, exc_stub_108, exc_stub_109, exc_stub_110, exc_stub_111",
    ".quad exc_stub_112, exc_stub_113, exc_stub_114, exc_stub_115, exc_stub_116, exc_stub_117, exc_stub_118, exc_stub_119",
    ".quad exc_stub_120, exc_stub_121, exc_stub_122, exc_stub_123, exc_stub_124, exc_stub_125, exc_stub_126, exc_stub_127",
    ".quad exc_stub_128, exc_stub_129, exc_stub_130, exc_stub_131, exc_stub_132, exc_stub_133, exc_stub_134, exc_stub_135",
    ".quad exc_stub_136, exc_stub_137, exc_stub_138, exc_stub_139, exc_stub_140, exc_stub_141, exc_stub_142, exc_stub_143",
    ".quad exc_stub_144, exc_stub_145, exc_stub_146, exc_stub_147, exc_stub_148, exc_stub_149, exc_stub_150, exc_stub_151",
    ".quad exc_stub_152, exc_stub_153, exc_stub_154, exc_stub_155, exc_stub_156, exc_stub_157, exc_stub_158, exc_stub_159",
    ".quad exc_stub_160, exc_stub_161, exc_stub_162, exc_stub_163, exc_stub_164, exc_stub_165, exc_stub_166, exc_stub_167",
    ".quad exc_stub_168, exc_stub_169, exc_stub_170, exc_stub_171, exc_stub_172, exc_stub_173, exc_stub_174, exc_stub_175",
    ".quad exc_stub_176, exc_stub_177, exc_stub_178, exc_stub_179, exc_stub_180, exc_stub_181, exc_stub_182, exc_stub_183",
    ".quad exc_stub_184, exc_stub_185, exc_stub_186, exc_stub_187, exc_stub_188, exc_stub_189, exc_stub_190, exc_stub_191",
    ".quad exc_stub_192, exc_stub_193, exc_stub_194, exc_stub_195, exc_stub_196, exc_stub_197, exc_stub_198, exc_stub_199",
    ".quad exc_stub_200, exc_stub_201, exc_stub_202, exc_stub_203, exc_stub_204, exc_stub_205, exc_stub_206, exc_stub_207",
    ".quad exc_stub_208, exc_stub_209, exc_stub_210, exc_stub_211, exc_stub_212, exc_stub_213, exc_stub_214, exc_stub_215",
    ".quad exc_stub_216, exc_stub_217, exc_stub_218, exc_stub_219, exc_stub_220, exc_stub_221, exc_stub_222, exc_stub_223",
    ".quad exc_stub_224, exc_stub_225, exc_stub_226, exc_stub_227, exc_stub_228, exc_stub_229, exc_stub_230, exc_stub_231",
    ".quad exc_stub_232, exc_stub_233, exc_stub_234, exc_stub_235, exc_stub_236, exc_stub_237, exc_stub_238, exc_stub_239",
    ".quad exc_stub_240, exc_stub_241, exc_stub_242, exc_stub_243, exc_stub_244, exc_stub_245, exc_stub_246, exc_stub_247",
    ".quad exc_stub_248, exc_stub_249, exc_stub_250, exc_stub_251, exc_stub_252, exc_stub_253, exc_stub_254, exc_stub_255",
    ".section .text",
    dispatch = sym exception_dispatch,
);

unsafe extern "C" {
    static FERROUS_EXC_STUBS: [u64; 256];
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
    IDT.call_once(|| {
        let cs = gdt::kernel_code().0;
        let mut gates = [Gate::MISSING; 256];
        // SAFETY: FERROUS_EXC_STUBS is an immutable table defined in the
        // assembly above, 256 code addresses long.
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
    load();
}

/// Loads the shared IDT on this CPU.
pub fn load() {
    let idt = IDT.get().expect("IDT built by the bootstrap CPU");
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
    // An interrupt inside usercopy's stac window must not run with SMAP
    // open; iretq restores the interrupted AC flag.
    if super::cpu::features().smap_enabled {
        // SAFETY: clac only clears RFLAGS.AC; SMAP is on, so it exists.
        unsafe { core::arch::asm!("clac", options(nomem, nostack)) };
    }
    if frame.vector >= 32 {
        crate::irq::interrupt(frame.vector as u8);
        if frame.cs & 3 == 3 {
            // Back to user mode: a thread whose process ended leaves here.
            crate::process::check_return_to_user();
        }
        return;
    }
    // NMI, double fault and machine check are not the program's doing (and
    // run on IST stacks): they stay kernel matters even from ring 3.
    if frame.cs & 3 == 3 && !matches!(frame.vector, 2 | 8 | 18) {
        // A user program's fault ends that program, not the kernel.
        let (mnemonic, name) = vector_name(frame.vector);
        let addr = if frame.vector == 14 {
            Cr2::read_raw()
        } else {
            0
        };
        let detail = if frame.vector == 14 {
            let (_, access, why) = describe_page_fault(frame.error_code);
            Some((access, why))
        } else {
            None
        };
        crate::process::user_fault(crate::process::UserFault {
            vector: frame.vector,
            mnemonic,
            name,
            error_code: frame.error_code,
            rip: frame.rip,
            rsp: frame.rsp,
            addr,
            detail,
        });
    }
    if frame.vector == 14 {
        let addr = Cr2::read_raw();
        if let Some(resume) = usercopy::fixup_for(frame.rip) {
            frame.rip = resume;
            frame.rdx = addr;
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
        "\nEXCEPTION {mnemonic} {name} (vector {}) on cpu{} in {mode} mode, thread {}",
        frame.vector,
        super::cpu::id(),
        crate::thread::current_name().unwrap_or("<none or busy>")
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
            if access == "instruction fetch" {
                if f.smep_enabled {
                    let _ = writeln!(out, "  (SMEP: the kernel may not execute user pages)");
                }
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
