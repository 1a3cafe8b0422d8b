//! Per-CPU data reached through the GS base: each CPU's slot holds its
//! logical index and APIC id, what the SYSCALL entry needs, the context
//! switch's handover, and the address of the CPU's block of the portable
//! kernel's per-CPU state (`crate::percpu::CpuBlock`, read by
//! [`this_block`] with one `gs:` load). GS is set before anything else
//! runs on a CPU.

use crate::percpu::CpuBlock;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use x86_64::VirtAddr;
use x86_64::registers::model_specific::GsBase;

pub const MAX_CPUS: usize = 64;

#[repr(C)]
struct Slot {
    /// Address of this slot (so `gs:[0]` yields a pointer to it).
    this: AtomicU64,
    index: AtomicU64,
    apic_id: AtomicU64,
    /// Scratch for the user stack pointer during SYSCALL entry (offset 24).
    user_rsp: AtomicU64,
    /// Top of the running thread's kernel stack (offset 32): SYSCALL entry
    /// switches to it.
    kernel_rsp: AtomicU64,
    /// This CPU's TSS, whose RSP0 must track `kernel_rsp`.
    tss: AtomicU64,
    /// This CPU's `crate::percpu::CpuBlock` (offset 48), set by `init`
    /// before GS points here.
    block: AtomicPtr<CpuBlock>,
    /// The references the last context switch on this CPU handed over.
    handover: super::context::Handover,
}

static SLOTS: [Slot; MAX_CPUS] = [const {
    Slot {
        this: AtomicU64::new(0),
        index: AtomicU64::new(0),
        apic_id: AtomicU64::new(0),
        user_rsp: AtomicU64::new(0),
        kernel_rsp: AtomicU64::new(0),
        tss: AtomicU64::new(0),
        block: AtomicPtr::new(core::ptr::null_mut()),
        handover: super::context::Handover::new(),
    }
}; MAX_CPUS];

/// Offsets used by the SYSCALL entry (`user.rs`).
pub const USER_RSP_OFFSET: usize = 24;
pub const KERNEL_RSP_OFFSET: usize = 32;
const _: () = assert!(core::mem::offset_of!(Slot, user_rsp) == USER_RSP_OFFSET);
const _: () = assert!(core::mem::offset_of!(Slot, kernel_rsp) == KERNEL_RSP_OFFSET);
/// Offset of `block`, read by [`this_block`].
const BLOCK_OFFSET: usize = 48;
const _: () = assert!(core::mem::offset_of!(Slot, block) == BLOCK_OFFSET);

pub(super) fn set_tss(tss: u64) {
    SLOTS[index()].tss.store(tss, Ordering::Relaxed);
}

/// This CPU's TSS (followed by its I/O bitmap, `ioport`), 0 before `gdt`.
pub(super) fn tss() -> u64 {
    SLOTS[index()].tss.load(Ordering::Relaxed)
}

/// Makes `top` the stack that SYSCALLs and interrupts from user mode land
/// on, on this CPU (called on every switch to a thread that may run in ring 3).
pub fn set_kernel_stack(top: u64) {
    let slot = &SLOTS[index()];
    slot.kernel_rsp.store(top, Ordering::Relaxed);
    let tss = slot.tss.load(Ordering::Relaxed) as *mut x86_64::structures::tss::TaskStateSegment;
    if !tss.is_null() {
        // SAFETY: `tss` is this CPU's TSS (static or leaked, never freed; packed, so the write is unaligned);
        // only this CPU writes it, with interrupts off in the scheduler; the
        // CPU reads RSP0 only on a privilege change, which cannot happen
        // during this store.
        unsafe {
            core::ptr::addr_of_mut!((*tss).privilege_stack_table[0])
                .write_unaligned(VirtAddr::new(top))
        };
    }
}

/// This CPU's context-switch handover (`context::switch`).
pub(super) fn handover() -> &'static super::context::Handover {
    &SLOTS[index()].handover
}

/// Points this CPU's GS base at slot `index` (below `MAX_CPUS`: the slot
/// and the block are indexed by it).
pub fn init(index: usize, apic_id: u32) {
    let slot = &SLOTS[index];
    let block: &'static CpuBlock = crate::percpu::cpu(index).expect("index below MAX_CPUS");
    slot.this
        .store(slot as *const Slot as u64, Ordering::Relaxed);
    slot.index.store(index as u64, Ordering::Relaxed);
    slot.apic_id.store(apic_id as u64, Ordering::Relaxed);
    slot.block
        .store(block as *const CpuBlock as *mut CpuBlock, Ordering::Relaxed);
    GsBase::write(VirtAddr::new(slot as *const Slot as u64));
}

/// This CPU's block of the portable kernel's per-CPU state, with one load
/// (no index arithmetic or bounds check).
#[inline]
pub fn this_block() -> &'static CpuBlock {
    let p: *const CpuBlock;
    // SAFETY: GS points at this CPU's slot from the first instructions of
    // its bring-up (`init`), and the slot is static; reading field `block`
    // has no effects.
    unsafe {
        core::arch::asm!(
            "mov {}, gs:[{off}]",
            out(reg) p,
            off = const BLOCK_OFFSET,
            options(nostack, readonly, preserves_flags)
        )
    };
    // SAFETY: `init` stored a `&'static CpuBlock` (never null, never freed,
    // `Sync`) in this slot before pointing GS at it, and nothing else
    // writes the field; shared access is all a `CpuBlock` allows.
    unsafe { &*p }
}

/// This CPU's logical index (0 = bootstrap processor).
#[inline]
pub fn index() -> usize {
    let i: u64;
    // SAFETY: GS points at this CPU's slot from the first instructions of its
    // bring-up (`init`), and the slot is static; reading field 1 has no effects.
    unsafe {
        core::arch::asm!("mov {}, gs:[8]", out(reg) i, options(nostack, readonly, preserves_flags))
    };
    i as usize
}

/// The APIC id of CPU `index`.
pub fn apic_id_of(index: usize) -> u32 {
    SLOTS[index].apic_id.load(Ordering::Relaxed) as u32
}
