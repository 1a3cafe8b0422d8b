//! x86_64: everything that touches the hardware. The portable kernel
//! (`kernel/src`) calls only the functions re-exported here; an aarch64 port
//! provides the same surface.

pub mod acpi;
pub mod apic;
pub mod backtrace;
pub mod boot;
pub mod context;
pub mod cpu;
mod entry;
mod fpu;
mod gdt;
mod idt;
pub mod image;
pub mod ioport;
pub mod mm;
pub mod percpu;
pub mod pit;
pub mod probe;
pub mod qemu;
pub mod serial;
pub mod smp;
pub mod time;
pub mod user;
pub mod usercopy;

pub use boot::BootData;
pub use entry::run_on_stack;
