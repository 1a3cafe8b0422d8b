//! The GDT: kernel code/data, user data/code (in the order SYSRET needs),
//! and a TSS whose interrupt stack table gives double faults, NMIs and
//! machine checks known-good stacks (a kernel stack overflow then ends in a
//! report, not a triple fault), and whose RSP0 is the running thread's
//! kernel stack.

use super::ioport::TssIo;
use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};

/// IST slots (1-based in the IDT gate, 0-based in the TSS array).
pub const IST_DOUBLE_FAULT: u8 = 1;
pub const IST_NMI: u8 = 2;
pub const IST_MACHINE_CHECK: u8 = 3;

const IST_STACK_SIZE: usize = 16 * 1024;

#[repr(C, align(16))]
struct IstStack([u8; IST_STACK_SIZE]);

static mut IST_STACKS: [IstStack; 3] = [const { IstStack([0; IST_STACK_SIZE]) }; 3];

struct Gdt {
    table: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

/// The bootstrap CPU's TSS and I/O bitmap. Written only through
/// `percpu`'s raw pointer once loaded (RSP0, the bitmap's bits).
static mut BSP_TSS: TssIo = TssIo::new();
static GDT: Once<Gdt> = Once::new();

/// Bounds of the IST stacks, for the stack walker.
pub fn ist_stacks() -> core::ops::Range<u64> {
    let base = (&raw const IST_STACKS) as u64;
    base..base + (3 * IST_STACK_SIZE) as u64
}

pub fn init() {
    let base = (&raw const IST_STACKS) as u64;
    let p = &raw mut BSP_TSS;
    // SAFETY: `init` runs once, on the bootstrap CPU, before the TSS is
    // loaded; nothing else refers to `BSP_TSS` yet. From here on it is
    // reached as `&'static` (for the descriptor) and through `percpu`'s raw
    // pointer for the fields the CPU reads.
    let tss: &'static TssIo = unsafe {
        for i in 0..3 {
            // Stacks grow down: each IST entry is the top of its stack.
            (*p).tss.interrupt_stack_table[i] =
                VirtAddr::new(base + ((i + 1) * IST_STACK_SIZE) as u64);
        }
        &*p
    };
    let gdt = GDT.call_once(|| {
        let mut table = GlobalDescriptorTable::new();
        let code = table.append(Descriptor::kernel_code_segment());
        let data = table.append(Descriptor::kernel_data_segment());
        // SYSRET's layout: user data right after the kernel data, user code
        // after that (see `user::init_cpu`).
        table.append(Descriptor::user_data_segment());
        table.append(Descriptor::user_code_segment());
        let tss = table.append(TssIo::descriptor(tss));
        Gdt {
            table,
            code,
            data,
            tss,
        }
    });
    gdt.table.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded, which
    // lives in a static for the rest of the kernel's life, as does the TSS.
    unsafe {
        CS::set_reg(gdt.code);
        SS::set_reg(gdt.data);
        DS::set_reg(gdt.data);
        ES::set_reg(gdt.data);
        load_tss(gdt.tss);
    }
    // The raw pointer, not the shared reference: RSP0 and the I/O bitmap
    // are written through it.
    super::percpu::set_tss(p as u64);
}

/// Selectors every GDT shares (index 1..=4): ring-3 data and code, RPL 3.
pub const USER_DATA: u16 = 0x18 | 3;
pub const USER_CODE: u16 = 0x20 | 3;

/// The kernel code selector, for IDT gates.
pub fn kernel_code() -> SegmentSelector {
    GDT.get().expect("GDT initialised before the IDT").code
}

/// An application processor's own GDT and TSS (heap-allocated, never freed),
/// with its IST stacks at `ist` (tops of guarded kernel stacks).
pub fn init_ap(ist: [u64; 3]) {
    let mut tss = alloc::boxed::Box::new(TssIo::new());
    for (i, top) in ist.iter().enumerate() {
        tss.tss.interrupt_stack_table[i] = VirtAddr::new(*top);
    }
    // Leaked for good; RSP0 and the I/O bitmap are written through `raw`.
    let raw = alloc::boxed::Box::into_raw(tss);
    // SAFETY: `raw` comes from `Box::into_raw` and is never freed; the
    // shared reference is used only to build the descriptor.
    let tss: &'static TssIo = unsafe { &*raw };
    let mut table = GlobalDescriptorTable::new();
    let code = table.append(Descriptor::kernel_code_segment());
    let data = table.append(Descriptor::kernel_data_segment());
    table.append(Descriptor::user_data_segment());
    table.append(Descriptor::user_code_segment());
    let tss_sel = table.append(TssIo::descriptor(tss));
    let table: &'static GlobalDescriptorTable =
        alloc::boxed::Box::leak(alloc::boxed::Box::new(table));
    table.load();
    // SAFETY: the selectors index the GDT just loaded, which (like the TSS)
    // is leaked and so lives for the kernel's lifetime. The code selector
    // has the same index as the BSP's, which the shared IDT uses.
    unsafe {
        CS::set_reg(code);
        SS::set_reg(data);
        DS::set_reg(data);
        ES::set_reg(data);
        load_tss(tss_sel);
    }
    super::percpu::set_tss(raw as u64);
}
