//! The bootstrap GDT: kernel code and data. (TSS, IST stacks and user
//! segments arrive with the scheduler and user space.)

use spin::Once;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};

struct Gdt {
    table: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
}

static GDT: Once<Gdt> = Once::new();

pub fn init() {
    let gdt = GDT.call_once(|| {
        let mut table = GlobalDescriptorTable::new();
        let code = table.append(Descriptor::kernel_code_segment());
        let data = table.append(Descriptor::kernel_data_segment());
        Gdt { table, code, data }
    });
    gdt.table.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded, which
    // lives in a static for the rest of the kernel's life.
    unsafe {
        CS::set_reg(gdt.code);
        SS::set_reg(gdt.data);
        DS::set_reg(gdt.data);
        ES::set_reg(gdt.data);
    }
}

/// The kernel code selector, for IDT gates.
pub fn kernel_code() -> SegmentSelector {
    GDT.get().expect("GDT initialised before the IDT").code
}
