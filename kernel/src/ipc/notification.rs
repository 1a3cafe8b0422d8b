//! Notifications: `notification_signal`, `notification_wait` and
//! `notification_poll`.

use super::*;

/// The caller's notification capability with the rights `needed`.
pub fn notification_target(
    space: CSpaceId,
    op: Sysno,
    handle: Handle,
    needed: Rights,
) -> Result<(u64, Held), SysError> {
    let epoch = cap::epoch();
    let (n, c) = cap::lookup_as::<cap::kind::Notification>(space, op, handle, 0, needed)?;
    let held = Held {
        space,
        handle,
        object: c.object,
        epoch,
    };
    Ok((n.id, held))
}

pub fn signal(id: u64, held: &Held, bits: u64) -> Result<(), SysError> {
    let woken = {
        let mut ipc = IPC.lock();
        held.check()?;
        let n = ipc.notifications.get_mut(id).ok_or(SysError::ObjectGone)?;
        match n.signal(bits) {
            Err(_) => return Err(SysError::ObjectGone),
            Ok(None) => None,
            Ok(Some((t, word))) => Some(deliver(&mut ipc, t, Delivery::Bits(word))),
        }
    };
    log::trace!("ipc.signal notification={id} bits={bits:#x}");
    trace::emit(EventType::IpcSignal, [id, bits, 0, 0], 0);
    if let Some(t) = woken {
        thread::unpark(t);
    }
    Ok(())
}

/// Signals notification `id` for the kernel itself (an interrupt line
/// bound to it, `crate::irqline`): no capability, callable with
/// interrupts off. `ObjectGone` if the notification is gone or closed.
pub fn signal_from_kernel(id: u64, bits: u64) -> Result<(), SysError> {
    let woken = {
        let mut ipc = IPC.lock();
        let n = ipc.notifications.get_mut(id).ok_or(SysError::ObjectGone)?;
        match n.signal(bits) {
            Err(_) => return Err(SysError::ObjectGone),
            Ok(None) => None,
            Ok(Some((t, word))) => Some(deliver(&mut ipc, t, Delivery::Bits(word))),
        }
    };
    trace::emit(EventType::IpcSignal, [id, bits, 0, 0], 0);
    if let Some(t) = woken {
        thread::unpark(t);
    }
    Ok(())
}

pub fn wait_bits(id: u64, held: &Held, timeout_ns: u64) -> Result<u64, SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    let deadline = deadline(timeout_ns);
    {
        let mut ipc = IPC.lock();
        held.check()?;
        ipc.room()?;
        let n = ipc.notifications.get_mut(id).ok_or(SysError::ObjectGone)?;
        match n.wait(me, timeout_ns != 0) {
            Err(IpcError::WouldBlock) => return Err(SysError::WouldBlock),
            Err(IpcError::Closed) => return Err(SysError::ObjectGone),
            Err(e) => return Err(oom(e)),
            Ok(WaitOutcome::Ready(bits)) => {
                trace::emit(EventType::IpcWait, [id, bits, 0, 0], 0);
                return Ok(bits);
            }
            Ok(WaitOutcome::Blocked) => {
                let w = Waiting::Notification { id, held: *held };
                // alloc: reserved above (Ipc::room)
                ipc.waiting.insert(me, w);
            }
        }
    }
    match wait(me, deadline, Some(held))? {
        Delivery::Bits(b) => {
            trace::emit(EventType::IpcWait, [id, b, 0, 0], 0);
            Ok(b)
        }
        _ => Err(SysError::ObjectGone),
    }
}

pub fn poll(id: u64, held: &Held) -> Result<u64, SysError> {
    let mut ipc = IPC.lock();
    held.check()?;
    let n = ipc.notifications.get_mut(id).ok_or(SysError::ObjectGone)?;
    n.poll().map_err(|_| SysError::ObjectGone)
}
