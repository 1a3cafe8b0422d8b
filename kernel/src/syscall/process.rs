//! Process calls: `process_spawn`, `process_wait`, `process_kill`
//! (`process_exit` ends the caller in `crate::process`).

use super::usermem::copy_in;
use crate::cap::{self, Object, Parent, kind};
use crate::process::{self, Process};
use alloc::sync::Arc;
use alloc::vec::Vec;
use ferrous_abi::{
    ExitStatus, GRANT_SIZE, Grant, Handle, ObjectType, Rights, SysError, Sysno, UserPtr,
};

pub fn wait(me: &Process, h: Handle, timeout_ns: u64) -> Result<u64, SysError> {
    let op = Sysno::ProcessWait;
    let (p, c) = cap::lookup_as::<kind::Process>(me.cspace, op, h, 0, Rights::WAIT)?;
    let held = || cap::still_names(me.cspace, h, c.object);
    p.wait(timeout_ns, held).map(ExitStatus::to_raw)
}

pub fn kill(me: &Process, h: Handle) -> Result<u64, SysError> {
    let op = Sysno::ProcessKill;
    let (p, _) = cap::lookup_as::<kind::Process>(me.cspace, op, h, 0, Rights::CONTROL)?;
    p.end(ExitStatus::Killed);
    Ok(0)
}

/// `process_spawn`: everything is checked (module, memory, each grant)
/// before the process exists; if a later step fails, the half-made
/// process is taken apart and its capability deleted.
pub fn spawn(
    me: &Arc<Process>,
    module: Handle,
    memory: Handle,
    (args, args_len): (UserPtr, u64),
    (grants, grant_count): (UserPtr, u64),
) -> Result<u64, SysError> {
    let op = Sysno::ProcessSpawn;
    let s = me.cspace;
    let (index, _) = cap::lookup_as::<kind::Module>(s, op, module, 0, Rights::EXECUTE)?;
    let (mem, c) = cap::lookup_as::<kind::Memory>(s, op, memory, 1, Rights::WRITE)?;
    let mem_id = c.object;
    let args = copy_in(args, args_len, 3)?;
    let raw = copy_in(grants, grant_count * GRANT_SIZE, 5)?;
    let mut list: Vec<Grant> = Vec::new();
    list.try_reserve_exact(grant_count as usize)
        .map_err(|_| SysError::OutOfMemory)?;
    // alloc: reserved above (try_reserve_exact(grant_count))
    list.extend(
        raw.chunks_exact(GRANT_SIZE as usize)
            .map(|c| Grant::from_bytes(c.try_into().unwrap_or([0; 8]))),
    );
    let space_bound = child_space_bound(me);
    for g in &list {
        if Rights::from_bits(g.rights).is_none() {
            return Err(SysError::ReservedBitsSet { arg: 4 });
        }
        if g.slot != Grant::CHILD_SPACE {
            let needed = Rights::GRANT | Rights::DERIVE;
            cap::lookup(s, op, Handle(g.slot), 4, None, needed)?;
        }
    }
    cap::free_slot_of(s)?;
    let boot = &crate::BOOT.get().ok_or(SysError::ObjectGone)?.data;
    let m = boot.modules.get(index).ok_or(SysError::ObjectGone)?;
    let elf = boot.module_bytes(m).ok_or(SysError::BadElf)?;
    let name = m.name();
    let (child, start) = process::create(name, elf, &args, mem).map_err(|e| {
        log::warn!("process_spawn of {name}: {e}");
        e.to_sys()
    })?;
    // The grants first, the caller's process capability last: until then
    // no slot of the caller names the child, so no grant can hand the
    // child a capability to itself.
    for (i, g) in list.iter().enumerate() {
        let to = i as u32 + 1;
        let mask = Rights::from_bits_truncate(g.rights);
        let r = if g.slot == Grant::CHILD_SPACE {
            let space = Object::AddressSpace(child.clone());
            let rights = mask & space_bound;
            cap::insert(child.cspace, Some(to), space, rights, Parent::None, op).map(|_| ())
        } else {
            cap::grant(s, Handle(g.slot), child.cspace, to, mask, op, 4)
        };
        if let Err(e) = r {
            process::abandon(&child);
            return Err(e);
        }
    }
    let obj = Object::Process(child.clone());
    let parent = Parent::Memory(memory, mem_id);
    let rights = ObjectType::Process.default_rights();
    let handle = match cap::insert(s, None, obj, rights, parent, op) {
        Ok(h) => h,
        Err(e) => {
            process::abandon(&child);
            return Err(e);
        }
    };
    if let Err(e) = process::start(&child, start) {
        // A failed call leaves nothing behind: not even the capability.
        if let Some(id) = cap::object_id(s, Handle(handle)) {
            cap::delete_if(s, Handle(handle), id);
        }
        return Err(e.to_sys());
    }
    Ok(u64::from(handle))
}

/// The most a parent may give a child on the child's own address space:
/// what it holds on its own (in `SELF_SPACE`, if that names its own space),
/// else mapping only. A parent cannot hand out powers it lacks itself.
fn child_space_bound(me: &Arc<Process>) -> Rights {
    let own = cap::lookup_as::<kind::AddressSpace>(
        me.cspace,
        Sysno::ProcessSpawn,
        ferrous_abi::initial::SELF_SPACE,
        4,
        Rights::NONE,
    );
    match own {
        Ok((p, c)) if Arc::ptr_eq(&p, me) => c.rights,
        _ => Rights::READ | Rights::WRITE,
    }
}
