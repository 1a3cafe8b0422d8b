//! Object types: what a capability can name, with the rights a new
//! capability to each gets.

use crate::Rights;

numbered! {
    /// What a capability names. The number is stable (`cap_identify`); 0
    /// never names a type.
    pub enum ObjectType: u8 {
        /// A budget of physical memory from which other objects are made.
        Memory = 1 => "memory",
        /// Physical pages to share (`frame_create`, `frame_map`).
        Frame = 2 => "frame",
        AddressSpace = 3 => "address_space",
        Thread = 4 => "thread",
        Process = 5 => "process",
        Endpoint = 6 => "endpoint",
        Notification = 7 => "notification",
        IrqLine = 8 => "irq_line",
        IoPorts = 9 => "io_ports",
        MmioRegion = 10 => "mmio_region",
        ResourceGroup = 11 => "resource_group",
        /// The kernel's trace rings and counters.
        Trace = 12 => "trace",
        Console = 13 => "console",
        Module = 14 => "module",
    }
}

impl ObjectType {
    /// The stable number user space sees (`cap_identify`).
    pub const fn raw(self) -> u8 {
        self as u8
    }

    /// A hardware range (interrupt lines, I/O ports, physical addresses
    /// that are not RAM), which `hw_split` narrows into a child of the same
    /// type naming part of it.
    pub const fn is_range(self) -> bool {
        matches!(
            self,
            ObjectType::IrqLine | ObjectType::IoPorts | ObjectType::MmioRegion
        )
    }

    /// The rights of an object's original capability: what the call that
    /// makes the object returns (before any mask the call applies, such as
    /// a memory split's parent rights), and what init gets for the objects
    /// the kernel hands it ([`crate::initial`]).
    pub const fn default_rights(self) -> Rights {
        const R: u32 = Rights::READ.bits();
        const W: u32 = Rights::WRITE.bits();
        const X: u32 = Rights::EXECUTE.bits();
        const G: u32 = Rights::GRANT.bits();
        const D: u32 = Rights::DERIVE.bits();
        const SEND: u32 = Rights::SEND.bits();
        const RECV: u32 = Rights::RECEIVE.bits();
        const SIGNAL: u32 = Rights::SIGNAL.bits();
        const WAIT: u32 = Rights::WAIT.bits();
        const CONTROL: u32 = Rights::CONTROL.bits();
        Rights::from_bits_truncate(match self {
            ObjectType::Memory => R | W | G | D,
            ObjectType::Frame => R | W | X | G | D,
            ObjectType::AddressSpace => R | W | X | CONTROL | G | D,
            ObjectType::Thread => WAIT | CONTROL | G | D,
            ObjectType::Endpoint => SEND | RECV | G | D,
            ObjectType::Notification => SIGNAL | WAIT | G | D,
            ObjectType::Trace => R | CONTROL | G | D,
            ObjectType::Console => W | G | D,
            ObjectType::Module => R | X | G | D,
            ObjectType::Process
            | ObjectType::IrqLine
            | ObjectType::IoPorts
            | ObjectType::MmioRegion
            | ObjectType::ResourceGroup => Rights::ALL.bits(),
        })
    }
}
