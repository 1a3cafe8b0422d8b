//! Memory capabilities: `memory_split`, `memory_info`, and the one way
//! every call makes an object from memory ([`create_from_memory`]).

use crate::cap::{self, Object, Parent, kind};
use crate::memory::Memory;
use crate::process::Process;
use alloc::sync::Arc;
use ferrous_abi::{Handle, ObjectType, Rights, SysError, Sysno};

/// Makes an object from the caller's `memory` (argument 0, needs write)
/// and puts its capability in the caller's lowest free slot, with the
/// type's default rights ([`ObjectType::default_rights`]); memory made
/// from memory gets no more than its parent's (rights never grow along the
/// tree). `make` gets the memory and returns the object, charged to it.
/// The slot is checked first, so a full table costs nothing; if the
/// capability cannot be inserted, the object is undone (it never escapes
/// without a capability). Returns the slot.
pub fn create_from_memory(
    me: &Process,
    op: Sysno,
    memory: Handle,
    kind: ObjectType,
    make: impl FnOnce(Arc<Memory>) -> Result<Object, SysError>,
) -> Result<u64, SysError> {
    let (m, c) = cap::lookup_as::<kind::Memory>(me.cspace, op, memory, 0, Rights::WRITE)?;
    cap::free_slot_of(me.cspace)?;
    let obj = make(m)?;
    debug_assert_eq!(obj.kind(), kind);
    let rights = match kind {
        ObjectType::Memory => kind.default_rights() & c.rights,
        _ => kind.default_rights(),
    };
    let undo = obj.clone();
    let parent = Parent::Memory(memory, c.object);
    match cap::insert(me.cspace, None, obj, rights, parent, op) {
        Ok(slot) => Ok(u64::from(slot)),
        Err(e) => {
            undo.destroyed();
            Err(e)
        }
    }
}

pub fn split(me: &Process, memory: Handle, bytes: u64) -> Result<u64, SysError> {
    create_from_memory(me, Sysno::MemorySplit, memory, ObjectType::Memory, |m| {
        m.split(bytes).map(Object::Memory)
    })
}

pub fn info(me: &Process, memory: Handle) -> Result<u64, SysError> {
    let op = Sysno::MemoryInfo;
    let (m, _) = cap::lookup_as::<kind::Memory>(me.cspace, op, memory, 0, Rights::READ)?;
    Ok(m.available())
}
