//! A fault in ring 3 ends only the faulting process.

use super::*;

/// A CPU exception in user mode, decoded by the arch layer.
pub struct UserFault {
    pub vector: u64,
    pub mnemonic: &'static str,
    pub name: &'static str,
    pub error_code: u64,
    pub rip: u64,
    pub rsp: u64,
    /// The faulting address of a page fault.
    pub addr: u64,
    /// (access, reason) of a page fault.
    pub detail: Option<(&'static str, &'static str)>,
}

/// Reports a user-mode fault and ends only the faulting process.
pub fn user_fault(f: UserFault) -> ! {
    let name = thread::current_process().map_or("?", |p| p.name);
    crate::metrics::count(crate::metrics::Counter::Faults);
    if let Some(p) = thread::current_process() {
        p.count(Stat::Faults);
    }
    if f.vector == 14 {
        // The page-fault error code: P (bit 0), W (1), U (2), RSVD (3),
        // I/D (4). A user access to a present page it may not touch is a
        // kernel page unless it wrote a read-only one or fetched from NX.
        use ferrous_trace::FaultCause as C;
        let e = f.error_code;
        let cause = if e & 1 == 0 {
            C::NotPresent
        } else if e & 8 != 0 {
            C::ReservedBit
        } else if e & 16 != 0 {
            C::NoExecute
        } else if e & 2 != 0 && f.addr < ferrous_abi::USER_END {
            C::WriteProtected
        } else {
            C::KernelPage
        } as u64;
        let args = [f.addr, f.error_code, f.rip, cause];
        crate::trace::emit(ferrous_trace::EventType::FaultPage, args, 0);
    } else {
        let args = [f.vector, f.error_code, f.rip, 0];
        crate::trace::emit(ferrous_trace::EventType::FaultException, args, 0);
    }
    match f.detail {
        Some((access, why)) => log::warn!(
            "process {name} killed: {} {} at rip {:#x}: user {access} of {:#x}, {why}",
            f.mnemonic,
            f.name,
            f.rip,
            f.addr
        ),
        None => log::warn!(
            "process {name} killed: {} {} (vector {}, error code {:#x}) at rip {:#x}, rsp {:#x}",
            f.mnemonic,
            f.name,
            f.vector,
            f.error_code,
            f.rip,
            f.rsp
        ),
    }
    arch::cpu::enable_interrupts();
    exit_current(ExitStatus::Faulted {
        vector: f.vector as u8,
    })
}
