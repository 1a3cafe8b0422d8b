//! Processes the kernel starts itself (init, kernel tests), with their
//! initial capabilities (`ferrous_abi::initial`).

use super::*;

/// Which initial capabilities a process the kernel starts gets.
pub enum Initial {
    /// Init: everything (`ferrous_abi::initial`), with these boot modules.
    Init { modules: usize },
    /// A kernel test program: the console and its own address space.
    Test,
}

/// What the root budget leaves the kernel of `free` bytes: an eighth, at
/// least 4 MiB and at most 64 MiB. Budgets pay for everything a process
/// makes, but the kernel's own bookkeeping (heap growth for its tables,
/// the stacks of its threads, trace state) needs frames no budget holds;
/// with the whole machine handed out, a process spending its budget to the
/// last byte would leave the kernel none.
pub fn kernel_reserve(free: u64) -> u64 {
    (free / 8).clamp(4 << 20, 64 << 20)
}

/// Starts a process from the kernel (init, kernel tests) with a memory
/// budget of all free memory but the kernel's reserve, and its initial
/// capabilities.
pub fn spawn_from_kernel(
    name: &'static str,
    elf: &[u8],
    args: &[u8],
    initial: Initial,
) -> Result<Arc<Process>, SpawnError> {
    use cap::{Object, Parent};
    use ferrous_abi::ObjectType as T;
    use ferrous_abi::{Sysno, initial as slot};
    let free = crate::mm::frames::stats().free * PAGE_SIZE;
    let memory = Memory::root(free.saturating_sub(kernel_reserve(free)));
    let (p, start_at) = create(name, elf, args, memory.clone())?;
    let s = p.cspace;
    let fill = || -> Result<(), SysError> {
        let op = Sysno::ProcessSpawn;
        cap::insert(
            s,
            Some(slot::CONSOLE.0),
            Object::Console,
            T::Console.default_rights(),
            Parent::None,
            op,
        )?;
        let space_rights = T::AddressSpace.default_rights();
        let space = Object::AddressSpace(p.clone());
        cap::insert(
            s,
            Some(slot::SELF_SPACE.0),
            space,
            space_rights,
            Parent::None,
            op,
        )?;
        if let Initial::Init { modules, .. } = initial {
            let mem = Object::Memory(memory.clone());
            cap::insert(
                s,
                Some(slot::MEMORY.0),
                mem,
                T::Memory.default_rights(),
                Parent::None,
                op,
            )?;
            let irqs = Object::IrqLines {
                first: 0,
                count: 24,
            };
            let rights = T::IrqLine.default_rights();
            cap::insert(s, Some(slot::IRQ_LINES.0), irqs, rights, Parent::None, op)?;
            let ports = Object::IoPorts {
                base: 0,
                count: 0x1_0000,
            };
            let rights = T::IoPorts.default_rights();
            cap::insert(s, Some(slot::IO_PORTS.0), ports, rights, Parent::None, op)?;
            // The whole physical address space; mapping it (phase 3) will
            // refuse RAM.
            let mmio = Object::Mmio {
                base: 0,
                len: 1 << 46,
            };
            let rights = T::MmioRegion.default_rights();
            cap::insert(s, Some(slot::MMIO.0), mmio, rights, Parent::None, op)?;
            let trace_rights = T::Trace.default_rights();
            cap::insert(
                s,
                Some(slot::TRACE.0),
                Object::Trace,
                trace_rights,
                Parent::None,
                op,
            )?;
            let room = (ferrous_abi::CSPACE_SLOTS - slot::FIRST_MODULE.0) as usize;
            for i in 0..modules.min(room) {
                let at = slot::FIRST_MODULE.0 + i as u32;
                let rights = T::Module.default_rights();
                cap::insert(s, Some(at), Object::Module(i), rights, Parent::None, op)?;
            }
        }
        Ok(())
    };
    if let Err(e) = fill() {
        abandon(&p);
        return Err(SpawnError::Sys(e));
    }
    start(&p, start_at)?;
    Ok(p)
}
