//! Address spaces: `mem_map`, `mem_unmap`, `mem_protect`.

use crate::cap::{self, kind};
use crate::mm::uspace::UserSpace;
use crate::process::Process;
use crate::trace;
use alloc::sync::Arc;
use ferrous_abi::{Handle, Perms, Rights, SysError, Sysno, UserPtr};
use ferrous_paging::Flags;
use ferrous_trace::EventType;

/// Most bytes one `mem_map`, `mem_unmap` or `mem_protect` call may cover:
/// one call's work (with preemption off under the space lock) stays
/// bounded, whatever the mappings in the range cost to make.
const MAX_MAP_LEN: u64 = 64 << 20;

/// Page-table flags for user permissions (decode refused W+X and
/// mappings without read).
pub fn flags(p: Perms) -> Flags {
    if p.contains(Perms::WRITE) {
        Flags::USER_RW
    } else if p.contains(Perms::EXECUTE) {
        Flags::USER_RX
    } else {
        Flags::USER_RO
    }
}

/// Mapping needs write on the address space; executable mappings also
/// execute.
pub fn map_rights(p: Perms) -> Rights {
    if p.contains(Perms::EXECUTE) {
        Rights::WRITE | Rights::EXECUTE
    } else {
        Rights::WRITE
    }
}

/// The process whose address space the caller's `space` (argument `arg`
/// of `op`) names, with `needed`.
pub fn target(
    me: &Process,
    op: Sysno,
    space: Handle,
    arg: u8,
    needed: Rights,
) -> Result<Arc<Process>, SysError> {
    cap::lookup_as::<kind::AddressSpace>(me.cspace, op, space, arg, needed).map(|(p, _)| p)
}

/// `mem_unmap` and `mem_protect` act on whole mappings: every page of the
/// range must be mapped, else `BadAddress` at the first hole, and nothing
/// changes.
fn all_mapped(s: &mut UserSpace, addr: u64, len: u64) -> Result<(), SysError> {
    match (addr..addr + len)
        .step_by(4096)
        .find(|&va| s.translate(va).is_none())
    {
        Some(hole) => Err(SysError::BadAddress { addr: hole }),
        None => Ok(()),
    }
}

pub fn map(
    me: &Process,
    space: Handle,
    addr: UserPtr,
    len: u64,
    perms: Perms,
) -> Result<u64, SysError> {
    let target = target(me, Sysno::MemMap, space, 0, map_rights(perms))?;
    let addr = addr.addr();
    if addr == 0 {
        // Kernel-chosen placement arrives with the VM-object work.
        return Err(SysError::AddressSpaceFull);
    }
    // One call does bounded work; budgets bound the total.
    if len > MAX_MAP_LEN {
        return Err(SysError::LengthTooLarge { arg: 2 });
    }
    trace::emit(EventType::MemMap, [target.id, addr, len, perms.bits()], 0);
    // Each page and each table is charged as it is made; on any refusal
    // what was mapped is undone (and refunded).
    target
        .with_space(|s| {
            let mut va = addr;
            while va < addr + len {
                if s.translate(va).is_some() {
                    s.unmap_range(addr, va);
                    return Err(SysError::AlreadyMapped { addr: va });
                }
                if let Err(e) = s.map_new(va, flags(perms)) {
                    s.unmap_range(addr, va);
                    if e == SysError::OutOfMemory {
                        let args = [addr + len - va, target.id, 0, 0];
                        trace::emit(EventType::MemOom, args, 0);
                    }
                    return Err(e);
                }
                va += 4096;
            }
            Ok(addr)
        })
        .unwrap_or(Err(SysError::ObjectGone))
}

pub fn unmap(me: &Process, space: Handle, addr: UserPtr, len: u64) -> Result<u64, SysError> {
    let target = target(me, Sysno::MemUnmap, space, 0, Rights::WRITE)?;
    let addr = addr.addr();
    if len > MAX_MAP_LEN {
        return Err(SysError::LengthTooLarge { arg: 2 });
    }
    trace::emit(EventType::MemUnmap, [target.id, addr, len, 0], 0);
    // The space refunds the frames it owned and the tables it freed; a
    // frame object's pages stay charged to the frame's memory.
    target
        .with_space(|s| {
            all_mapped(s, addr, len)?;
            s.unmap_range(addr, addr + len);
            Ok(0)
        })
        .unwrap_or(Err(SysError::ObjectGone))
}

/// Changes the permissions of whole mappings, each page only within what
/// its mapping may become (the rights of the capability a frame came
/// through): else `PermissionDenied` at the first page that may not, and
/// nothing changes.
pub fn protect(
    me: &Process,
    space: Handle,
    addr: UserPtr,
    len: u64,
    perms: Perms,
) -> Result<u64, SysError> {
    let target = target(me, Sysno::MemProtect, space, 0, map_rights(perms))?;
    let addr = addr.addr();
    if len > MAX_MAP_LEN {
        return Err(SysError::LengthTooLarge { arg: 2 });
    }
    let flags = flags(perms);
    target
        .with_space(|s| {
            all_mapped(s, addr, len)?;
            for va in (addr..addr + len).step_by(4096) {
                s.may_become(va, flags)?;
            }
            s.protect_range(addr, addr + len, flags);
            Ok(0)
        })
        .unwrap_or(Err(SysError::ObjectGone))
}
