//! The system-call dispatcher: decode through `ferrous-abi` (which checks
//! everything that needs no kernel state), act, encode the result. Every
//! refusal is logged with the call and the specific error, so a user
//! program's failures explain themselves.

use crate::arch::{self, user::SyscallFrame, usercopy};
use crate::cap::{self, Object, Parent};
use crate::ipc;
use crate::process::{self, Process};
use crate::thread;
use crate::trace;
use alloc::sync::Arc;
use alloc::vec::Vec;
use ferrous_abi::{
    ABI_VERSION, ExitStatus, GRANT_SIZE, Grant, Handle, ObjectType, Perms, Rights, SysError,
    Syscall, Sysno, USER_END, encode_result,
};
use ferrous_paging::Flags;
use ferrous_trace::EventType;

/// Most bytes one `mem_map` call may map.
const MAX_MAP_LEN: u64 = 64 << 20;

pub fn dispatch(frame: &mut SyscallFrame) {
    let (nr, args) = frame.call();
    crate::metrics::syscall(nr);
    trace::emit(EventType::SyscallEnter, [nr, args[0], 0, 0], 0);
    // One look at the running process for the whole call.
    let me = thread::current_process();
    // A process that has ended runs no more calls: its thread leaves here.
    if me.as_ref().is_some_and(|p| !p.is_running()) {
        process::check_return_to_user();
    }
    let result = match Syscall::decode(nr, args) {
        Ok(call) => {
            log::trace!("syscall {call}");
            match me.as_ref().ok_or(SysError::ObjectGone) {
                Ok(me) => match count_and_perform_ipc(call, me) {
                    Some(Ok((badge, info, words))) => {
                        frame.set_result(0, badge);
                        frame.rsi = info.to_raw();
                        frame.rdi = words[0];
                        frame.r10 = words[1];
                        frame.r8 = words[2];
                        frame.r9 = words[3];
                        trace::emit(EventType::SyscallExit, [nr, 0, badge, 0], 0);
                        finish(frame, Some(me));
                        return;
                    }
                    Some(Err(e)) => Err(e),
                    None => perform(call, me),
                },
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        let who = me.as_ref().map_or("?", |p| p.name);
        log::debug!("syscall {nr} from {who} refused: {e}");
    }
    let (rax, rdx) = encode_result(result);
    trace::emit(EventType::SyscallExit, [nr, rax, rdx, 0], 0);
    frame.set_result(rax, rdx);
    finish(frame, me.as_ref());
}

/// The checks on every way back to user mode.
fn finish(frame: &mut SyscallFrame, me: Option<&Arc<Process>>) {
    if frame.rip >= USER_END {
        // SYSRET to a non-canonical RIP would fault in ring 0.
        process::exit_current(ExitStatus::Faulted { vector: 13 });
    }
    // A process that ended meanwhile (killed, or another thread exited it)
    // does not get its thread back.
    if me.is_none_or(|p| !p.is_running()) {
        process::check_return_to_user();
    }
}

/// The object behind the caller's `handle` (argument `arg` of `op`), if it
/// is a `kind` with at least `needed`; refusals are traced by `cap`.
fn look(
    me: &Process,
    op: Sysno,
    handle: Handle,
    arg: u8,
    kind: ObjectType,
    needed: Rights,
) -> Result<(Object, ferrous_caps::ObjectId), SysError> {
    cap::lookup(me.cspace, op, handle, arg, Some(kind), needed).map(|(o, c)| (o, c.object))
}

fn copy_in(addr: u64, len: u64, arg: u8) -> Result<Vec<u8>, SysError> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len as usize)
        .map_err(|_| SysError::OutOfMemory)?;
    buf.resize(len as usize, 0);
    usercopy::copy_from_user(&mut buf, addr).map_err(|e| match e {
        usercopy::UserCopyError::Fault { addr } => SysError::BadAddress { addr },
        usercopy::UserCopyError::NotUserMemory { .. } => SysError::RangeOutsideUser { arg },
        usercopy::UserCopyError::RangeWraps { .. } => SysError::LengthWraps { arg },
    })?;
    Ok(buf)
}

/// Copies `bytes` to the user buffer whose length is argument `arg`.
fn copy_out(addr: u64, bytes: &[u8], arg: u8) -> Result<(), SysError> {
    usercopy::copy_to_user(addr, bytes).map_err(|e| match e {
        usercopy::UserCopyError::Fault { addr } => SysError::BadAddress { addr },
        usercopy::UserCopyError::NotUserMemory { .. } => SysError::RangeOutsideUser { arg },
        usercopy::UserCopyError::RangeWraps { .. } => SysError::LengthWraps { arg },
    })
}

fn flags(p: Perms) -> Flags {
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
fn map_rights(p: Perms) -> Rights {
    if p.contains(Perms::EXECUTE) {
        Rights::WRITE | Rights::EXECUTE
    } else {
        Rights::WRITE
    }
}

/// `mem_unmap` and `mem_protect` act on whole mappings: every page of the
/// range must be mapped, else `BadAddress` at the first hole, and nothing
/// changes.
fn all_mapped(s: &mut crate::mm::kspace::UserSpace, addr: u64, len: u64) -> Result<(), SysError> {
    match (addr..addr + len)
        .step_by(4096)
        .find(|&va| s.translate(va).is_none())
    {
        Some(hole) => Err(SysError::BadAddress { addr: hole }),
        None => Ok(()),
    }
}

/// The memory object behind the caller's `handle` with `needed`, and the
/// capability's object id (for `Parent::Memory`).
fn look_memory(
    me: &Process,
    op: Sysno,
    handle: Handle,
    arg: u8,
    needed: Rights,
) -> Result<(Arc<crate::memory::Memory>, ferrous_caps::Capability), SysError> {
    match cap::lookup(
        me.cspace,
        op,
        handle,
        arg,
        Some(ObjectType::Untyped),
        needed,
    )? {
        (Object::Memory(m), c) => Ok((m, c)),
        _ => unreachable!("looked up as memory"),
    }
}

fn space_of(obj: Object) -> Arc<Process> {
    match obj {
        Object::AddressSpace(p) => p,
        _ => unreachable!("looked up as an address space"),
    }
}

/// Counts the call for its process, then [`perform_ipc`].
fn count_and_perform_ipc(
    call: Syscall,
    me: &Arc<Process>,
) -> Option<Result<ipc::Received, SysError>> {
    me.count(process::Stat::Syscalls);
    if matches!(
        call,
        Syscall::IpcSend { .. }
            | Syscall::IpcCall { .. }
            | Syscall::IpcReply { .. }
            | Syscall::IpcReplyRecv { .. }
    ) {
        me.count(process::Stat::IpcSent);
    }
    perform_ipc(call, me)
}

/// The IPC calls, whose results fill the message registers; `None` for
/// every other call.
fn perform_ipc(call: Syscall, me: &Arc<Process>) -> Option<Result<ipc::Received, SysError>> {
    let op = call.sysno();
    let s = me.cspace;
    Some(match call {
        Syscall::IpcSend {
            endpoint,
            info,
            words,
        } => ipc::endpoint_target(me.id, s, op, endpoint, Rights::SEND)
            .and_then(|t| ipc::send(&t, info, words, false)),
        Syscall::IpcCall {
            endpoint,
            info,
            words,
        } => ipc::endpoint_target(me.id, s, op, endpoint, Rights::SEND)
            .and_then(|t| ipc::send(&t, info, words, true)),
        Syscall::IpcRecv { endpoint, info } => {
            ipc::endpoint_target(me.id, s, op, endpoint, Rights::RECEIVE)
                .and_then(|t| ipc::recv(&t, info))
        }
        Syscall::IpcReply { info, words } => {
            ipc::reply(s, info, words).map(|()| (0, ferrous_abi::RecvInfo::default(), [0; 4]))
        }
        Syscall::IpcReplyRecv {
            endpoint,
            info,
            words,
        } => ipc::endpoint_target(me.id, s, op, endpoint, Rights::RECEIVE)
            .and_then(|t| ipc::reply_recv(&t, info, words)),
        _ => return None,
    })
}

fn perform(call: Syscall, me: &Arc<Process>) -> Result<u64, SysError> {
    let op = call.sysno();
    match call {
        Syscall::AbiVersion => Ok(ABI_VERSION as u64),
        Syscall::DebugWrite { console, buf, len } => {
            look(me, op, console, 0, ObjectType::Console, Rights::WRITE)?;
            let bytes = copy_in(buf.addr(), len, 1)?;
            let text = core::str::from_utf8(&bytes).unwrap_or("<not UTF-8>");
            for line in text.lines() {
                log::info!("[{}] {line}", me.name);
            }
            Ok(0)
        }
        Syscall::ProcessExit { code } => process::exit_current(ExitStatus::Exited { code }),
        Syscall::ThreadYield => {
            thread::yield_now();
            Ok(0)
        }
        Syscall::ThreadSleep { ns } => {
            thread::sleep_ns(ns);
            Ok(0)
        }
        Syscall::ClockMonotonic => Ok(arch::time::now_ns()),
        Syscall::ProcessSpawn {
            module,
            memory,
            args,
            args_len,
            grants,
            grant_count,
        } => spawn(
            me,
            module,
            memory,
            args.addr(),
            args_len,
            grants.addr(),
            grant_count,
        ),
        Syscall::ProcessWait {
            process: h,
            timeout_ns,
        } => {
            let (obj, id) = look(me, op, h, 0, ObjectType::Process, Rights::WAIT)?;
            let Object::Process(p) = obj else {
                unreachable!("looked up as a process")
            };
            let held = || cap::still_names(me.cspace, h, id);
            p.wait(timeout_ns, held).map(ExitStatus::to_raw)
        }
        Syscall::ProcessKill { process: h } => {
            let (obj, _) = look(me, op, h, 0, ObjectType::Process, Rights::CONTROL)?;
            if let Object::Process(p) = obj {
                p.end(ExitStatus::Killed);
            }
            Ok(0)
        }
        Syscall::MemMap {
            space,
            addr,
            len,
            perms,
        } => {
            let (obj, _) = look(
                me,
                op,
                space,
                0,
                ObjectType::AddressSpace,
                map_rights(perms),
            )?;
            let target = space_of(obj);
            let addr = addr.addr();
            if addr == 0 {
                // Kernel-chosen placement arrives with the VM-object work.
                return Err(SysError::AddressSpaceFull);
            }
            // One call does bounded work; budgets bound the total.
            if len > MAX_MAP_LEN {
                return Err(SysError::LengthTooLarge { arg: 2 });
            }
            // Refused before any work if the budget cannot cover it.
            target.charge(len)?;
            trace::emit(EventType::MemMap, [target.id, addr, len, perms.bits()], 0);
            let result = target
                .with_space(|s| {
                    let mut va = addr;
                    while va < addr + len {
                        if s.translate(va).is_some() {
                            s.unmap_range(addr, va);
                            return Err(SysError::AlreadyMapped { addr: va });
                        }
                        if s.map_new(va, flags(perms)).is_err() {
                            s.unmap_range(addr, va);
                            let args = [addr + len - va, target.id, 0, 0];
                            trace::emit(EventType::MemOom, args, 0);
                            return Err(SysError::OutOfMemory);
                        }
                        va += 4096;
                    }
                    Ok(addr)
                })
                .unwrap_or(Err(SysError::ObjectGone));
            if result.is_err() {
                target.uncharge(len);
            }
            result
        }
        Syscall::MemUnmap { space, addr, len } => {
            let (obj, _) = look(me, op, space, 0, ObjectType::AddressSpace, Rights::WRITE)?;
            let target = space_of(obj);
            let addr = addr.addr();
            trace::emit(EventType::MemUnmap, [target.id, addr, len, 0], 0);
            // Only the pages the process owned were charged to it: frame
            // pages stay charged to their frame's memory.
            let freed = target
                .with_space(|s| {
                    all_mapped(s, addr, len)?;
                    Ok(s.unmap_range(addr, addr + len))
                })
                .unwrap_or(Err(SysError::ObjectGone))?;
            target.uncharge(freed * 4096);
            Ok(0)
        }
        Syscall::MemProtect {
            space,
            addr,
            len,
            perms,
        } => {
            let (obj, _) = look(
                me,
                op,
                space,
                0,
                ObjectType::AddressSpace,
                map_rights(perms),
            )?;
            let addr = addr.addr();
            space_of(obj)
                .with_space(|s| {
                    all_mapped(s, addr, len)?;
                    for va in (addr..addr + len).step_by(4096) {
                        s.protect(va, flags(perms))
                            .map_err(|_| SysError::BadAddress { addr: va })?;
                    }
                    Ok(0)
                })
                .unwrap_or(Err(SysError::ObjectGone))
        }
        Syscall::CapDelete { slot } => cap::delete(me.cspace, slot).map(|_| 0),
        Syscall::CapCopy { src, dest } => {
            cap::mint(me.cspace, op, src, dest, Rights::ALL, 0).map(|_| 0)
        }
        Syscall::CapMint {
            src,
            dest,
            rights,
            badge,
        } => cap::mint(me.cspace, op, src, dest, rights, badge).map(|_| 0),
        Syscall::CapMove { src, dest } => cap::move_cap(me.cspace, src, dest).map(|_| 0),
        Syscall::CapRevoke { slot } => cap::revoke(me.cspace, slot).map(|n| n as u64),
        Syscall::CapIdentify { slot } => cap::identify(me.cspace, slot).map(|i| i.to_raw()),
        Syscall::MemorySplit { memory, bytes } => {
            let (m, c) = look_memory(me, op, memory, 0, Rights::WRITE)?;
            cap::free_slot_of(me.cspace)?;
            let child = m.split(bytes)?;
            // Rights never grow along the tree: at most the source's.
            let rights = c.rights & (Rights::READ | Rights::WRITE | Rights::GRANT | Rights::DERIVE);
            let obj = Object::Memory(child.clone());
            cap::insert(
                me.cspace,
                None,
                obj,
                rights,
                Parent::Memory(memory, c.object),
                op,
            )
            .map(u64::from)
            .inspect_err(|_| child.destroy())
        }
        Syscall::MemoryInfo { memory } => {
            let (m, _) = look_memory(me, op, memory, 0, Rights::READ)?;
            Ok(m.available())
        }
        Syscall::ThreadCreate {
            space,
            entry,
            stack_top,
            arg,
        } => {
            let (obj, _) = look(me, op, space, 0, ObjectType::AddressSpace, Rights::CONTROL)?;
            let target = space_of(obj);
            let start = thread::UserStart {
                entry: entry.addr(),
                stack_top: stack_top.addr(),
                arg0: arg,
                arg1: 0,
                root: 0,
            };
            // The capability first: a thread never runs without one, and a
            // failed call starts nothing.
            let mut slot = 0;
            let rights = Rights::WAIT | Rights::CONTROL | Rights::GRANT | Rights::DERIVE;
            let register = |t: &Arc<process::UserThread>| {
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
        Syscall::ThreadExit { code } => process::thread_exit_current(code),
        Syscall::EndpointCreate { memory } => {
            let (m, c) = look_memory(me, op, memory, 0, Rights::WRITE)?;
            let mem_id = c.object;
            cap::free_slot_of(me.cspace)?;
            let e = ipc::create_endpoint(me.id, m)?;
            let id = e.id();
            let rights = Rights::SEND | Rights::RECEIVE | Rights::GRANT | Rights::DERIVE;
            let obj = Object::Endpoint(e);
            cap::insert(
                me.cspace,
                None,
                obj,
                rights,
                Parent::Memory(memory, mem_id),
                op,
            )
            .map(u64::from)
            .inspect_err(|_| ipc::close_endpoint(id))
        }
        Syscall::NotificationCreate { memory } => {
            let (m, c) = look_memory(me, op, memory, 0, Rights::WRITE)?;
            let mem_id = c.object;
            cap::free_slot_of(me.cspace)?;
            let n = ipc::create_notification(m)?;
            let id = n.id();
            let rights = Rights::SIGNAL | Rights::WAIT | Rights::GRANT | Rights::DERIVE;
            let obj = Object::Notification(n);
            cap::insert(
                me.cspace,
                None,
                obj,
                rights,
                Parent::Memory(memory, mem_id),
                op,
            )
            .map(u64::from)
            .inspect_err(|_| ipc::close_notification(id))
        }
        Syscall::NotifySignal { notification, bits } => {
            let (id, _) = ipc::notification_target(me.cspace, op, notification, Rights::SIGNAL)?;
            ipc::signal(id, bits).map(|()| 0)
        }
        Syscall::NotifyWait {
            notification,
            timeout_ns,
        } => {
            let (id, held) = ipc::notification_target(me.cspace, op, notification, Rights::WAIT)?;
            ipc::wait_bits(id, &held, timeout_ns)
        }
        Syscall::NotifyPoll { notification } => {
            let (id, _) = ipc::notification_target(me.cspace, op, notification, Rights::WAIT)?;
            ipc::poll(id)
        }
        Syscall::ThreadSetCpu { thread: h, cpu } => {
            let (obj, _) = look(me, op, h, 0, ObjectType::Thread, Rights::CONTROL)?;
            let Object::Thread(t) = obj else {
                unreachable!("looked up as a thread")
            };
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
        Syscall::TraceRead {
            trace: h,
            cpu,
            cursor,
            buf,
            len,
        } => {
            look(me, op, h, 0, ObjectType::TraceBuffer, Rights::READ)?;
            let room = len.saturating_sub(ferrous_abi::TRACE_READ_HEADER) / 64;
            if room == 0 {
                return Err(SysError::ZeroLength { arg: 4 });
            }
            let (records, next, skipped) = trace::read(cpu as usize, cursor, room as usize)?;
            let mut out = Vec::new();
            out.try_reserve_exact(16 + records.len() * 64)
                .map_err(|_| SysError::OutOfMemory)?;
            out.extend_from_slice(&next.to_le_bytes());
            out.extend_from_slice(&skipped.to_le_bytes());
            for r in &records {
                out.extend_from_slice(&r.to_bytes());
            }
            copy_out(buf.addr(), &out, 4)?;
            Ok(records.len() as u64)
        }
        Syscall::MetricsRead { object, buf, len } => {
            // Type before rights, as for every call: a trace or a process.
            let (obj, _) = cap::lookup(me.cspace, op, object, 0, None, Rights::NONE)?;
            let kind = match obj {
                Object::Trace | Object::Process(_) => obj.kind(),
                _ => ObjectType::TraceBuffer,
            };
            let (obj, _) = cap::lookup(me.cspace, op, object, 0, Some(kind), Rights::READ)?;
            let mut words = Vec::new();
            words
                .try_reserve_exact(1 + 5 * 64 + crate::metrics::SYSCALLS + 1)
                .map_err(|_| SysError::OutOfMemory)?;
            match obj {
                Object::Trace => crate::metrics::snapshot(&mut words),
                Object::Process(p) => words.extend_from_slice(&p.metrics()),
                _ => return Err(SysError::WrongObjectType { arg: 0 }),
            }
            words.truncate((len / 8) as usize);
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            copy_out(buf.addr(), &bytes, 2)?;
            Ok(words.len() as u64)
        }
        Syscall::TraceControl {
            trace: h,
            categories,
        } => {
            look(me, op, h, 0, ObjectType::TraceBuffer, Rights::CONTROL)?;
            let c = ferrous_trace::Categories::from_bits(categories)
                .ok_or(SysError::ReservedBitsSet { arg: 1 })?;
            let previous = trace::FILTER.get();
            trace::FILTER.set(c);
            trace::emit(EventType::TraceFilter, [u64::from(c.bits()), 0, 0, 0], 0);
            Ok(u64::from(previous.bits()))
        }
        Syscall::FrameCreate { memory, bytes } => {
            let (m, c) = look_memory(me, op, memory, 0, Rights::WRITE)?;
            let mem_id = c.object;
            cap::free_slot_of(me.cspace)?;
            let f = crate::frame::FrameObj::create(m, bytes)?;
            let rights =
                Rights::READ | Rights::WRITE | Rights::EXECUTE | Rights::GRANT | Rights::DERIVE;
            cap::insert(
                me.cspace,
                None,
                Object::Frame(f),
                rights,
                Parent::Memory(memory, mem_id),
                op,
            )
            .map(u64::from)
        }
        Syscall::FrameMap {
            frame,
            space,
            addr,
            perms,
        } => {
            let mut needed = Rights::READ;
            if perms.contains(Perms::WRITE) {
                needed = needed | Rights::WRITE;
            }
            if perms.contains(Perms::EXECUTE) {
                needed = needed | Rights::EXECUTE;
            }
            let (obj, _) = look(me, op, frame, 0, ObjectType::Frame, needed)?;
            let Object::Frame(f) = obj else {
                unreachable!("looked up as a frame")
            };
            let (obj, _) = look(
                me,
                op,
                space,
                1,
                ObjectType::AddressSpace,
                map_rights(perms),
            )?;
            let target = space_of(obj);
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
            f.map((me.cspace, frame.0), &target, addr, flags(perms))?;
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
        Syscall::IpcSend { .. }
        | Syscall::IpcRecv { .. }
        | Syscall::IpcCall { .. }
        | Syscall::IpcReply { .. }
        | Syscall::IpcReplyRecv { .. } => unreachable!("handled by perform_ipc"),
        Syscall::ThreadWait {
            thread: h,
            timeout_ns,
        } => {
            let (obj, id) = look(me, op, h, 0, ObjectType::Thread, Rights::WAIT)?;
            let Object::Thread(t) = obj else {
                unreachable!("looked up as a thread")
            };
            let held = || cap::still_names(me.cspace, h, id);
            t.wait(timeout_ns, held).map(u64::from)
        }
    }
}

/// `process_spawn`: everything is checked (module, memory, each grant)
/// before the process exists; if a later step fails, the half-made
/// process is taken apart and its capability deleted.
fn spawn(
    me: &Arc<Process>,
    module: Handle,
    memory: Handle,
    args: u64,
    args_len: u64,
    grants: u64,
    grant_count: u64,
) -> Result<u64, SysError> {
    let op = Sysno::ProcessSpawn;
    let (obj, _) = look(me, op, module, 0, ObjectType::Module, Rights::EXECUTE)?;
    let Object::Module(index) = obj else {
        unreachable!("looked up as a module")
    };
    let (mem, c) = look_memory(me, op, memory, 1, Rights::WRITE)?;
    let mem_id = c.object;
    let args = copy_in(args, args_len, 3)?;
    let raw = copy_in(grants, grant_count * GRANT_SIZE, 5)?;
    let list: Vec<Grant> = raw
        .chunks_exact(GRANT_SIZE as usize)
        .map(|c| Grant::from_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    let space_bound = child_space_bound(me);
    for g in &list {
        if Rights::from_bits(g.rights).is_none() {
            return Err(SysError::ReservedBitsSet { arg: 4 });
        }
        if g.slot != Grant::CHILD_SPACE {
            let needed = Rights::GRANT | Rights::DERIVE;
            cap::lookup(me.cspace, op, Handle(g.slot), 4, None, needed)?;
        }
    }
    cap::free_slot_of(me.cspace)?;
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
            cap::grant(me.cspace, Handle(g.slot), child.cspace, to, mask, op, 4)
        };
        if let Err(e) = r {
            process::abandon(&child);
            return Err(e);
        }
    }
    let obj = Object::Process(child.clone());
    let parent = Parent::Memory(memory, mem_id);
    let handle = match cap::insert(me.cspace, None, obj, Rights::ALL, parent, op) {
        Ok(h) => h,
        Err(e) => {
            process::abandon(&child);
            return Err(e);
        }
    };
    if let Err(e) = process::start(&child, start) {
        // A failed call leaves nothing behind: not even the capability.
        if let Some(id) = cap::object_id(me.cspace, Handle(handle)) {
            cap::delete_if(me.cspace, Handle(handle), id);
        }
        return Err(e.to_sys());
    }
    Ok(u64::from(handle))
}

/// The most a parent may give a child on the child's own address space:
/// what it holds on its own (in `SELF_SPACE`, if that names its own space),
/// else mapping only. A parent cannot hand out powers it lacks itself.
fn child_space_bound(me: &Arc<Process>) -> Rights {
    let own = cap::lookup(
        me.cspace,
        Sysno::ProcessSpawn,
        ferrous_abi::initial::SELF_SPACE,
        4,
        Some(ObjectType::AddressSpace),
        Rights::NONE,
    );
    match own {
        Ok((Object::AddressSpace(p), c)) if Arc::ptr_eq(&p, me) => c.rights,
        _ => Rights::READ | Rights::WRITE,
    }
}
