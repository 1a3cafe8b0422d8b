//! Frames (shared memory): `frame_create`, `frame_map`.

use super::memory::create_from_memory;
use super::space;
use crate::cap::{self, Object, kind};
use crate::process::Process;
use crate::trace;
use alloc::sync::Arc;
use ferrous_abi::{Handle, ObjectType, Perms, Rights, SysError, Sysno, UserPtr};
use ferrous_trace::EventType;

pub fn create(me: &Process, memory: Handle, bytes: u64) -> Result<u64, SysError> {
    create_from_memory(me, Sysno::FrameCreate, memory, ObjectType::Frame, |m| {
        crate::frame::FrameObj::create(m, bytes).map(Object::Frame)
    })
}

pub fn map(
    me: &Arc<Process>,
    frame: Handle,
    space: Handle,
    addr: UserPtr,
    perms: Perms,
) -> Result<u64, SysError> {
    let op = Sysno::FrameMap;
    let mut needed = Rights::READ;
    if perms.contains(Perms::WRITE) {
        needed = needed | Rights::WRITE;
    }
    if perms.contains(Perms::EXECUTE) {
        needed = needed | Rights::EXECUTE;
    }
    let (f, cap) = cap::lookup_as::<kind::Frame>(me.cspace, op, frame, 0, needed)?;
    let target = space::target(me, op, space, 1, space::map_rights(perms))?;
    let addr = addr.addr();
    if addr == 0 {
        return Err(SysError::AddressSpaceFull);
    }
    if addr
        .checked_add(f.len())
        .is_none_or(|end| end > ferrous_abi::USER_MAP_END)
    {
        return Err(SysError::RangeOutsideUser { arg: 2 });
    }
    let flags = space::flags(perms);
    let ceiling = f.ceiling(cap.rights, flags, 3)?;
    f.map(
        (me.cspace, frame.0),
        cap.object,
        &target,
        addr,
        flags,
        ceiling,
    )?;
    trace::emit(
        EventType::MemMap,
        [target.id, addr, f.len(), perms.bits()],
        0,
    );
    let own = if Arc::ptr_eq(&target, me) {
        ferrous_abi::FRAME_MAP_OWN_SPACE
    } else {
        0
    };
    Ok(f.len() | own)
}
