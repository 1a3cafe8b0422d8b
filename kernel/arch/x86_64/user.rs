//! The ring-3 boundary: SYSCALL/SYSRET entry and exit, and the first entry
//! into user mode.
//!
//! On SYSCALL the CPU loads the kernel CS/SS from STAR, saves RIP in rcx and
//! RFLAGS in r11, and masks the RFLAGS bits in FMASK (IF, DF, TF, AC, NT: a
//! user-set DF would run usercopy's `rep movsb` backwards). The entry swaps
//! GS to the per-CPU slot, switches to the thread's kernel stack, saves every
//! register in a [`SyscallFrame`] and calls `crate::syscall::dispatch`.
//! SYSRET returns to a user RIP from rcx: if that were non-canonical, Intel
//! CPUs would raise #GP in ring 0 on the user stack. It cannot be: nothing
//! is mapped in the top user page (so no SYSCALL's next RIP is 2^47), and
//! the dispatcher refuses to return to a RIP outside the user half.

use super::{gdt, percpu};
use x86_64::PrivilegeLevel;
use x86_64::VirtAddr;
use x86_64::registers::model_specific::{Efer, EferFlags, KernelGsBase, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::structures::gdt::SegmentSelector;

/// Saved user state, lowest address first (pushed by the entry).
#[repr(C)]
#[derive(Debug)]
pub struct SyscallFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r9: u64,
    pub r8: u64,
    pub r10: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rax: u64,
    /// User RIP (from rcx).
    pub rip: u64,
    /// User RFLAGS (from r11).
    pub rflags: u64,
    pub rsp: u64,
}

impl SyscallFrame {
    /// Syscall number and the six argument registers, in ABI order.
    pub fn call(&self) -> (u64, [u64; 6]) {
        (
            self.rax,
            [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9],
        )
    }

    pub fn set_result(&mut self, rax: u64, rdx: u64) {
        self.rax = rax;
        self.rdx = rdx;
    }
}

core::arch::global_asm!(
    ".section .text",
    ".global ferrous_syscall_entry",
    "ferrous_syscall_entry:",
    "    swapgs",
    "    mov gs:[{user_rsp}], rsp",
    "    mov rsp, gs:[{kernel_rsp}]",
    "    push qword ptr gs:[{user_rsp}]",
    "    push r11",
    "    push rcx",
    "    push rax",
    "    push rdi",
    "    push rsi",
    "    push rdx",
    "    push r10",
    "    push r8",
    "    push r9",
    "    push rbx",
    "    push rbp",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    mov rdi, rsp",
    "    xor ebp, ebp",
    "    sti",
    "    call {dispatch}",
    "    cli",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbp",
    "    pop rbx",
    "    pop r9",
    "    pop r8",
    "    pop r10",
    "    pop rdx",
    "    pop rsi",
    "    pop rdi",
    "    pop rax",
    "    pop rcx",
    "    pop r11",
    // The return address is canonical: `syscall::dispatch` kills a thread
    // whose saved RIP is not (it cannot happen while nothing is ever mapped
    // in the top user page, see ferrous_abi::USER_MAP_END).
    "    mov rsp, [rsp]",
    "    swapgs",
    "    sysretq",
    dispatch = sym syscall_entry_rust,
    user_rsp = const percpu::USER_RSP_OFFSET,
    kernel_rsp = const percpu::KERNEL_RSP_OFFSET,
);

unsafe extern "C" {
    fn ferrous_syscall_entry();
}

extern "C" fn syscall_entry_rust(frame: &mut SyscallFrame) {
    crate::syscall::dispatch(frame);
}

/// Enables SYSCALL on this CPU.
pub fn init_cpu() {
    let user_cs = SegmentSelector(gdt::USER_CODE);
    let user_ss = SegmentSelector(gdt::USER_DATA);
    let kernel_cs = SegmentSelector::new(1, PrivilegeLevel::Ring0);
    let kernel_ss = SegmentSelector::new(2, PrivilegeLevel::Ring0);
    Star::write(user_cs, user_ss, kernel_cs, kernel_ss).expect("GDT layout matches SYSRET's");
    LStar::write(VirtAddr::new(ferrous_syscall_entry as *const () as u64));
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK,
    );
    KernelGsBase::write(VirtAddr::zero());
    // SAFETY: SCE only enables the SYSCALL instruction, whose target and
    // segments were just set.
    unsafe { Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
}

/// Drops to ring 3 at `entry` with stack `stack_top`, `rdi` = `arg0`,
/// `rsi` = `arg1`, every other register zero, interrupts on. The address
/// space must be active and map these; the thread's kernel stack must be
/// registered with `percpu::set_kernel_stack`.
pub fn enter(entry: u64, stack_top: u64, arg0: u64, arg1: u64) -> ! {
    assert!(entry < ferrous_paging::USER_END && stack_top <= ferrous_paging::USER_END);
    let rflags = (RFlags::INTERRUPT_FLAG | RFlags::from_bits_retain(2)).bits();
    // SAFETY: builds an IRETQ frame for ring 3 with the user selectors of
    // the loaded GDT; the user address space is active (caller), so the new
    // RIP/RSP are user addresses the CPU will check. `swapgs` hands GS back
    // to user mode; the kernel's slot returns on the next kernel entry.
    unsafe {
        core::arch::asm!(
            "cli",
            "push {ss}",
            "push {rsp_user}",
            "push {rflags}",
            "push {cs}",
            "push {rip}",
            "swapgs",
            "xor eax, eax", "xor ebx, ebx", "xor ecx, ecx", "xor edx, edx",
            "xor ebp, ebp", "xor r8d, r8d", "xor r9d, r9d", "xor r10d, r10d",
            "xor r11d, r11d", "xor r12d, r12d", "xor r13d, r13d", "xor r14d, r14d",
            "xor r15d, r15d",
            "iretq",
            ss = in(reg) gdt::USER_DATA as u64,
            rsp_user = in(reg) stack_top,
            rflags = in(reg) rflags,
            cs = in(reg) gdt::USER_CODE as u64,
            rip = in(reg) entry,
            in("rdi") arg0,
            in("rsi") arg1,
            options(noreturn)
        )
    }
}
