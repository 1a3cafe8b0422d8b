//! The system-call layer: decode through `ferrous-abi` (which checks
//! everything that needs no kernel state), route the call to its handler,
//! encode the result. Handlers live with the object they act on, one file
//! each (memory, address space, capabilities, threads, processes, IPC,
//! frames, trace, console), seL4 style; every handler takes the calling
//! process and the call's typed arguments and returns the result word (the
//! IPC calls return a message). Every refusal is logged with the call and
//! the specific error, so a user program's failures explain themselves.

mod cap;
mod console;
mod frame;
mod hw;
mod ipc;
mod memory;
mod process;
mod space;
mod thread;
mod trace;
mod usermem;

use crate::arch::{self, user::SyscallFrame};
use crate::process::{self as proc, Process};
use crate::thread as kthread;
use alloc::sync::Arc;
use ferrous_abi::{ABI_VERSION, ExitStatus, Received, SysError, Syscall, USER_END, encode_result};
use ferrous_trace::EventType;

/// What a call returns: a word in `rdx`, or a message (the IPC calls).
enum Outcome {
    Value(u64),
    Message(Received),
}

impl From<u64> for Outcome {
    fn from(v: u64) -> Outcome {
        Outcome::Value(v)
    }
}

impl From<Received> for Outcome {
    fn from(m: Received) -> Outcome {
        Outcome::Message(m)
    }
}

pub fn dispatch(frame: &mut SyscallFrame) {
    let (nr, args) = frame.call();
    crate::metrics::syscall(nr);
    crate::trace::emit(EventType::SyscallEnter, [nr, args[0], 0, 0], 0);
    // One look at the running process for the whole call.
    let me = kthread::current_process();
    // A process that has ended runs no more calls: its thread leaves here.
    if me.as_ref().is_some_and(|p| !p.is_running()) {
        proc::check_return_to_user();
    }
    let result = Syscall::decode(nr, args).and_then(|call| {
        log::trace!("syscall {call}");
        let me = me.as_ref().ok_or(SysError::ObjectGone)?;
        count(&call, me);
        perform(call, me)
    });
    match result {
        Ok(Outcome::Message(m)) => {
            frame.set_result(0, m.badge);
            frame.rsi = m.info.to_raw();
            frame.rdi = m.words[0];
            frame.r10 = m.words[1];
            frame.r8 = m.words[2];
            frame.r9 = m.words[3];
            crate::trace::emit(EventType::SyscallExit, [nr, 0, m.badge, 0], 0);
        }
        Ok(Outcome::Value(v)) => {
            let (rax, rdx) = encode_result(Ok(v));
            crate::trace::emit(EventType::SyscallExit, [nr, rax, rdx, 0], 0);
            frame.set_result(rax, rdx);
        }
        Err(e) => {
            let who = me.as_ref().map_or("?", |p| p.name);
            log::debug!("syscall {nr} from {who} refused: {e}");
            let (rax, rdx) = encode_result(Err(e));
            crate::trace::emit(EventType::SyscallExit, [nr, rax, rdx, 0], 0);
            frame.set_result(rax, rdx);
        }
    }
    finish(frame, me.as_ref());
}

/// The checks on every way back to user mode.
fn finish(frame: &mut SyscallFrame, me: Option<&Arc<Process>>) {
    if frame.rip >= USER_END {
        // SYSRET to a non-canonical RIP would fault in ring 0.
        proc::exit_current(ExitStatus::Faulted { vector: 13 });
    }
    // A process that ended meanwhile (killed, or another thread exited it)
    // does not get its thread back.
    if me.is_none_or(|p| !p.is_running()) {
        proc::check_return_to_user();
    }
}

/// The process's counters: every call, and the messages it sends.
fn count(call: &Syscall, me: &Process) {
    me.count(proc::Stat::Syscalls);
    if matches!(
        call,
        Syscall::IpcSend { .. }
            | Syscall::IpcCall { .. }
            | Syscall::IpcReply { .. }
            | Syscall::IpcReplyRecv { .. }
    ) {
        me.count(proc::Stat::IpcSent);
    }
}

/// Routes a decoded call to its handler.
fn perform(call: Syscall, me: &Arc<Process>) -> Result<Outcome, SysError> {
    use Syscall as S;
    let v = match call {
        S::AbiVersion {} => Ok(u64::from(ABI_VERSION)),
        S::ClockMonotonic {} => Ok(arch::time::now_ns()),
        S::DebugWrite { console, buf, len } => console::debug_write(me, console, buf, len),

        S::ProcessSpawn {
            module,
            memory,
            args,
            args_len,
            grants,
            grant_count,
        } => process::spawn(me, module, memory, (args, args_len), (grants, grant_count)),
        S::ProcessWait {
            process,
            timeout_ns,
        } => process::wait(me, process, timeout_ns),
        S::ProcessKill { process } => process::kill(me, process),
        S::ProcessExit { code } => proc::exit_current(ExitStatus::Exited { code }),

        S::ThreadCreate {
            space,
            entry,
            stack_top,
            arg,
        } => thread::create(me, space, entry, stack_top, arg),
        S::ThreadExit { code } => proc::thread_exit_current(code),
        S::ThreadWait { thread, timeout_ns } => thread::wait(me, thread, timeout_ns),
        S::ThreadYield {} => thread::yield_now(),
        S::ThreadSleep { ns } => thread::sleep(ns),
        S::ThreadSetCpu { thread, cpu } => thread::set_cpu(me, thread, cpu),

        S::MemMap {
            space,
            addr,
            len,
            perms,
        } => space::map(me, space, addr, len, perms),
        S::MemUnmap { space, addr, len } => space::unmap(me, space, addr, len),
        S::MemProtect {
            space,
            addr,
            len,
            perms,
        } => space::protect(me, space, addr, len, perms),

        S::MemorySplit { memory, bytes } => memory::split(me, memory, bytes),
        S::MemoryInfo { memory } => memory::info(me, memory),

        S::CapDelete { slot } => cap::delete(me, slot),
        S::CapCopy { src, dest } => cap::copy(me, src, dest),
        S::CapMint {
            src,
            dest,
            rights,
            badge,
        } => cap::mint(me, src, dest, rights, badge),
        S::CapMove { src, dest } => cap::move_cap(me, src, dest),
        S::CapRevoke { slot } => cap::revoke(me, slot),
        S::CapIdentify { slot } => cap::identify(me, slot),

        S::EndpointCreate { memory } => ipc::endpoint_create(me, memory),
        S::NotificationCreate { memory } => ipc::notification_create(me, memory),
        S::NotificationSignal { notification, bits } => ipc::signal(me, notification, bits),
        S::NotificationWait {
            notification,
            timeout_ns,
        } => ipc::wait(me, notification, timeout_ns),
        S::NotificationPoll { notification } => ipc::poll(me, notification),
        S::IpcSend {
            endpoint,
            info,
            words,
        } => return ipc::send(me, endpoint, info, words).map(Outcome::from),
        S::IpcCall {
            endpoint,
            info,
            words,
        } => return ipc::call(me, endpoint, info, words).map(Outcome::from),
        S::IpcRecv { endpoint, info } => return ipc::recv(me, endpoint, info).map(Outcome::from),
        S::IpcReply { info, words } => return ipc::reply(me, info, words).map(Outcome::from),
        S::IpcReplyRecv {
            endpoint,
            info,
            words,
        } => return ipc::reply_recv(me, endpoint, info, words).map(Outcome::from),

        S::TraceRead {
            trace,
            cpu,
            cursor,
            buf,
            len,
        } => trace::read(me, trace, cpu, cursor, buf, len),
        S::MetricsRead { object, buf, len } => trace::metrics_read(me, object, buf, len),
        S::TraceControl { trace, categories } => trace::control(me, trace, categories),
        S::FaultInject { trace, every } => trace::fault_inject(me, trace, every),
        S::HwSplit {
            range,
            first,
            count,
        } => hw::split(me, range, first, count),
        S::IoPortsEnable { ports } => hw::io_ports_enable(me, ports),
        S::IrqBind {
            irq,
            line,
            notification,
            bits,
        } => hw::irq_bind(me, irq, line, notification, bits),
        S::IrqAck { irq, line } => hw::irq_ack(me, irq, line),

        S::FrameCreate { memory, bytes } => frame::create(me, memory, bytes),
        S::FrameMap {
            frame,
            space,
            addr,
            perms,
        } => frame::map(me, frame, space, addr, perms),
    };
    v.map(Outcome::Value)
}
