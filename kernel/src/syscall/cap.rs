//! Capability calls: `cap_delete`, `cap_copy`, `cap_mint`, `cap_move`,
//! `cap_revoke`, `cap_identify`. The policy is `ferrous-caps`; the kernel
//! side, with its refusals traced, is `crate::cap`.

use crate::cap;
use crate::process::Process;
use ferrous_abi::{Handle, Rights, SysError, Sysno};

pub fn delete(me: &Process, slot: Handle) -> Result<u64, SysError> {
    cap::delete(me.cspace, slot).map(|_| 0)
}

pub fn copy(me: &Process, src: Handle, dest: Handle) -> Result<u64, SysError> {
    cap::mint(me.cspace, Sysno::CapCopy, src, dest, Rights::ALL, 0).map(|_| 0)
}

pub fn mint(
    me: &Process,
    src: Handle,
    dest: Handle,
    rights: Rights,
    badge: u64,
) -> Result<u64, SysError> {
    cap::mint(me.cspace, Sysno::CapMint, src, dest, rights, badge).map(|_| 0)
}

pub fn move_cap(me: &Process, src: Handle, dest: Handle) -> Result<u64, SysError> {
    cap::move_cap(me.cspace, src, dest).map(|_| 0)
}

pub fn revoke(me: &Process, slot: Handle) -> Result<u64, SysError> {
    cap::revoke(me.cspace, slot).map(|n| n as u64)
}

pub fn identify(me: &Process, slot: Handle) -> Result<u64, SysError> {
    cap::identify(me.cspace, slot).map(|i| i.to_raw())
}
