//! Thread calls: `thread_create`, `thread_wait`, `thread_yield`,
//! `thread_sleep`, `thread_set_cpu` (`thread_exit` ends the caller in
//! `crate::process`).

use super::space;
use crate::cap::{self, Object, Parent, kind};
use crate::process::{self, Process, UserThread};
use crate::thread;
use alloc::sync::Arc;
use ferrous_abi::{Handle, ObjectType, Rights, SysError, Sysno, UserPtr};

pub fn create(
    me: &Process,
    space: Handle,
    entry: UserPtr,
    stack_top: UserPtr,
    arg: u64,
) -> Result<u64, SysError> {
    let op = Sysno::ThreadCreate;
    let target = space::target(me, op, space, 0, Rights::CONTROL)?;
    let start = thread::UserStart {
        entry: entry.addr(),
        stack_top: stack_top.addr(),
        arg0: arg,
        arg1: 0,
        root: 0,
    };
    // The capability first: a thread never runs without one, and a failed
    // call starts nothing.
    let mut slot = 0;
    let rights = ObjectType::Thread.default_rights();
    let register = |t: &Arc<UserThread>| {
        let obj = Object::Thread(t.clone());
        slot = cap::insert(me.cspace, None, obj, rights, Parent::None, op)?;
        Ok(())
    };
    match process::add_thread(&target, start, register) {
        Ok(_) => Ok(u64::from(slot)),
        Err(e) => {
            if slot != 0
                && let Some(id) = cap::object_id(me.cspace, Handle(slot))
            {
                cap::delete_if(me.cspace, Handle(slot), id);
            }
            Err(e.to_sys())
        }
    }
}

pub fn wait(me: &Process, h: Handle, timeout_ns: u64) -> Result<u64, SysError> {
    let op = Sysno::ThreadWait;
    let (t, c) = cap::lookup_as::<kind::Thread>(me.cspace, op, h, 0, Rights::WAIT)?;
    let held = || cap::still_names(me.cspace, h, c.object);
    t.wait(timeout_ns, held).map(u64::from)
}

pub fn yield_now() -> Result<u64, SysError> {
    thread::yield_now();
    Ok(0)
}

pub fn sleep(ns: u64) -> Result<u64, SysError> {
    thread::sleep_ns(ns);
    Ok(0)
}

pub fn set_cpu(me: &Process, h: Handle, cpu: u32) -> Result<u64, SysError> {
    let op = Sysno::ThreadSetCpu;
    let (t, _) = cap::lookup_as::<kind::Thread>(me.cspace, op, h, 0, Rights::CONTROL)?;
    let id = t.id().ok_or(SysError::ObjectGone)?;
    if t.status().is_some() {
        return Err(SysError::ObjectGone);
    }
    let cpu = (cpu != ferrous_abi::ANY_CPU).then_some(cpu);
    let cpu = match cpu.map(u16::try_from) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return Err(SysError::NoSuchCpu),
    };
    if thread::set_affinity(id, cpu) {
        Ok(0)
    } else {
        Err(SysError::NoSuchCpu)
    }
}
