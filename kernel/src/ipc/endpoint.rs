//! Endpoints: `ipc_send`, `ipc_call`, `ipc_recv`, `ipc_reply` and
//! `ipc_reply_recv`, with the fast path's handoff.

use super::*;

/// The caller's capability to an endpoint, with the rights `needed`.
pub struct Target {
    /// The calling process (kernel-internal id).
    pub process: u64,
    pub space: CSpaceId,
    pub handle: Handle,
    pub object: ObjectId,
    pub endpoint: u64,
    pub badge: u64,
    /// `cap::epoch()` before the look-up.
    epoch: u64,
}

impl Target {
    fn held(&self) -> Held {
        Held {
            space: self.space,
            handle: self.handle,
            object: self.object,
            epoch: self.epoch,
        }
    }
}

pub fn endpoint_target(
    process: u64,
    space: CSpaceId,
    op: Sysno,
    handle: Handle,
    needed: Rights,
) -> Result<Target, SysError> {
    let epoch = cap::epoch();
    let (e, c) = cap::lookup_as::<cap::kind::Endpoint>(space, op, handle, 0, needed)?;
    Ok(Target {
        process,
        space,
        handle,
        object: c.object,
        endpoint: e.id,
        badge: c.badge,
        epoch,
    })
}

/// The message the caller sends: its words, its causal ID, and the
/// capability it offers (checked now for grant and derive).
fn outgoing(
    ipc: &mut Ipc,
    me: ThreadId,
    space: CSpaceId,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
    badge: u64,
    op: Sysno,
) -> Result<Msg, SysError> {
    let cap = match info.cap_slot {
        0 => None,
        slot => {
            let needed = Rights::GRANT | Rights::DERIVE;
            cap::lookup(space, op, Handle(u32::from(slot)), 1, None, needed)?;
            Some((space, u32::from(slot)))
        }
    };
    let causal = ipc
        .causal
        .get(&me)
        .copied()
        .unwrap_or_default()
        .outgoing(fresh_causal);
    Ok(Msg {
        words,
        len: info.words,
        badge,
        causal,
        cap,
    })
}

/// `ipc_send` and `ipc_call`.
pub fn send(
    t: &Target,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
    call: bool,
) -> Result<Received, SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    let op = if call { Sysno::IpcCall } else { Sysno::IpcSend };
    let kind = if call { SendKind::Call } else { SendKind::Send };
    let timeout = info.timeout_ns();
    // A call waits for its reply for the timeout, or for ever: the
    // non-blocking flag only means "fail if no receiver is waiting".
    let deadline = if call && info.nonblocking {
        if info.timeout_us == 0 {
            u64::MAX
        } else {
            self::deadline(u64::from(info.timeout_us) * 1000)
        }
    } else {
        deadline(timeout)
    };
    let mut abandoned = None;
    let sent_causal: u64;
    let woken = {
        let mut ipc = IPC.lock();
        t.held().check()?;
        ipc.room()?;
        let msg = outgoing(&mut ipc, me, t.space, info, words, t.badge, op)?;
        sent_causal = msg.causal.0;
        let event = if call {
            EventType::IpcCall
        } else {
            EventType::IpcSend
        };
        let args = [t.endpoint, t.badge, u64::from(info.words), words[0]];
        trace::emit(event, args, msg.causal.0);
        log::trace!(
            "ipc.{} endpoint={} badge={:#x} causal={}",
            if call { "call" } else { "send" },
            t.endpoint,
            t.badge,
            msg.causal.0
        );
        let ipc = &mut *ipc;
        // Room for the reply right first: once a receiver is taken off the
        // queue, binding must not fail.
        ipc.replies.reserve(1).map_err(oom)?;
        let e = ipc
            .endpoints
            .get_mut(t.endpoint)
            .ok_or(SysError::ObjectGone)?;
        match e.queue.send(me, t.badge, msg, kind, timeout != 0) {
            Err(IpcError::WouldBlock) => return Err(SysError::WouldBlock),
            Err(IpcError::Closed) => return Err(SysError::ObjectGone),
            Err(e) => return Err(oom(e)),
            Ok(SendOutcome::Blocked) => {
                let w = Waiting::Send {
                    endpoint: t.endpoint,
                    held: t.held(),
                };
                // alloc: reserved above (Ipc::room)
                ipc.waiting.insert(me, w);
                None
            }
            Ok(SendOutcome::Delivered { receiver, msg, .. }) => {
                let to = match ipc.waiting.get(&receiver) {
                    Some(Waiting::Recv { held, slot, .. }) => Some((held.space, *slot)),
                    _ => None,
                };
                let got_cap = transfer(&msg, to, op);
                if call {
                    // The receiver owes us a reply; we wait for it. A
                    // reply it still owed someone else is abandoned: that
                    // caller fails now rather than waiting for ever.
                    if let Some(old) = ipc.replies.discard(receiver) {
                        abandoned = Some(deliver(ipc, old, Delivery::Failed(SysError::ObjectGone)));
                    }
                    ipc.replies.bind(receiver, me).map_err(oom)?;
                    // alloc: reserved above (Ipc::room)
                    ipc.waiting.insert(me, Waiting::Reply);
                }
                if let Some(state) = ipc.causal.entry_or_default(receiver) {
                    state.received(msg.causal);
                }
                let plain = msg.cap.is_none();
                Some((deliver(ipc, receiver, message(&msg, got_cap, call)), plain))
            }
        }
    };
    if let Some(old) = abandoned {
        thread::unpark(old);
    }
    let held = t.held();
    let d = match woken {
        Some((r, _)) if !call => {
            thread::unpark(r);
            return Ok((0, RecvInfo::default(), [0; MSG_WORDS]));
        }
        // A call to a waiting server: run it now (register-only messages).
        Some((r, plain)) => {
            switch_and_wait(Waiting::Reply, me, r, plain, deadline, &held, sent_causal).0?
        }
        None => wait(me, deadline, Some(&held))?,
    };
    Ok(unpack(d))
}

/// `ipc_recv`: a transferred capability may land in `info.cap_slot`.
pub fn recv(t: &Target, info: MsgInfo) -> Result<Received, SysError> {
    recv_then(t, info, None)
}

/// Receives; if it must wait and `replied` names the caller just answered,
/// runs that caller at once (the fast path of `ipc_reply_recv`).
fn recv_then(
    t: &Target,
    info: MsgInfo,
    replied: Option<(ThreadId, ReplyNote)>,
) -> Result<Received, SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    let timeout = info.timeout_ns();
    let deadline = deadline(timeout);
    // A closure, so that every refusal below reaches the unpark of the
    // caller just answered.
    let woken = (|| {
        let mut ipc = IPC.lock();
        t.held().check()?;
        ipc.room()?;
        let ipc = &mut *ipc;
        let e = ipc
            .endpoints
            .get_mut(t.endpoint)
            .ok_or(SysError::ObjectGone)?;
        if !e.bound {
            e.owner = t.process;
            e.bound = true;
        }
        // Room for the reply right first: once a call is taken off the
        // queue, binding it must not fail.
        ipc.replies.reserve(1).map_err(oom)?;
        let Some(e) = ipc.endpoints.get_mut(t.endpoint) else {
            return Err(SysError::ObjectGone);
        };
        match e.queue.recv(me, timeout != 0) {
            Err(IpcError::WouldBlock) => Err(SysError::WouldBlock),
            Err(IpcError::Closed) => Err(SysError::ObjectGone),
            Err(e) => Err(oom(e)),
            Ok(RecvOutcome::Blocked) => {
                let w = Waiting::Recv {
                    endpoint: t.endpoint,
                    slot: info.cap_slot,
                    held: t.held(),
                };
                // alloc: reserved above (Ipc::room)
                ipc.waiting.insert(me, w);
                Ok(None)
            }
            Ok(RecvOutcome::Received {
                sender, msg, kind, ..
            }) => {
                let got_cap = transfer(&msg, Some((t.space, info.cap_slot)), Sysno::IpcRecv);
                let call = kind == SendKind::Call;
                if let Some(state) = ipc.causal.entry_or_default(me) {
                    state.received(msg.causal);
                }
                let d = message(&msg, got_cap, call);
                log::trace!("ipc.recv endpoint={} causal={}", t.endpoint, msg.causal.0);
                if call {
                    let old = ipc.replies.discard(me);
                    let old = old.map(|o| deliver(ipc, o, Delivery::Failed(SysError::ObjectGone)));
                    ipc.replies.bind(me, sender).map_err(oom)?;
                    // alloc: reserved above (Ipc::room)
                    ipc.waiting.insert(sender, Waiting::Reply);
                    Ok(Some((old, d)))
                } else {
                    ipc.waiting.remove(&sender);
                    let sent = Delivery::Message {
                        badge: 0,
                        words: [0; MSG_WORDS],
                        info: RecvInfo::default(),
                    };
                    // alloc: reserved above (Ipc::room)
                    ipc.mailbox.insert(sender, sent);
                    Ok(Some((Some(sender), d)))
                }
            }
        }
    })();
    let woken = match woken {
        Ok(w) => w,
        Err(e) => {
            if let Some((c, note)) = replied {
                note.emit();
                thread::unpark(c);
            }
            return Err(e);
        }
    };
    if let Some((sender, d)) = woken {
        if let Some((_, note)) = &replied {
            note.emit();
        }
        for t in sender.into_iter().chain(replied.map(|r| r.0)) {
            thread::unpark(t);
        }
        let r = unpack(d);
        note_recv(t.endpoint, &r);
        return Ok(r);
    }
    let held = t.held();
    let d = match replied {
        Some((c, note)) => {
            let waiting = Waiting::Recv {
                endpoint: t.endpoint,
                slot: info.cap_slot,
                held,
            };
            let (d, handed) = switch_and_wait(waiting, me, c, true, deadline, &held, note.causal);
            // A handoff's record carries the reply; otherwise record it.
            if !handed {
                note.emit();
            }
            d?
        }
        None => wait(me, deadline, Some(&held))?,
    };
    let r = unpack(d);
    note_recv(t.endpoint, &r);
    Ok(r)
}

/// `ipc_reply_recv`: the reply, then a receive; when the receive must wait,
/// the caller runs at once.
pub fn reply_recv(
    t: &Target,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<Received, SysError> {
    let reply_info = MsgInfo {
        cap_slot: 0,
        ..info
    };
    let replied = reply_to(t.space, reply_info, words)?;
    recv_then(t, MsgInfo { words: 0, ..info }, Some(replied))
}

/// `ipc_reply`: the caller this thread owes a reply gets the message.
pub fn reply(space: CSpaceId, info: MsgInfo, words: [u64; MSG_WORDS]) -> Result<(), SysError> {
    let (caller, note) = reply_to(space, info, words)?;
    note.emit();
    thread::unpark(caller);
    Ok(())
}

/// The `ipc.reply` record of a reply, emitted unless a handoff to the
/// caller carries it.
#[derive(Clone, Copy)]
struct ReplyNote {
    args: [u64; 4],
    causal: u64,
}

impl ReplyNote {
    fn emit(&self) {
        trace::emit(EventType::IpcReply, self.args, self.causal);
    }
}

/// Delivers the reply; returns the caller, still to be woken, and its
/// trace record.
fn reply_to(
    space: CSpaceId,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<(ThreadId, ReplyNote), SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    if info.cap_slot != 0 {
        // Replies carry words only; capabilities travel in requests.
        return Err(SysError::ReservedBitsSet { arg: 1 });
    }
    let mut ipc = IPC.lock();
    let msg = outgoing(&mut ipc, me, space, info, words, 0, Sysno::IpcReply)?;
    let caller = match ipc.replies.take(me) {
        Ok(c) => c,
        Err(IpcError::CallerGone) => return Err(SysError::CallerGone),
        Err(_) => return Err(SysError::NoPendingReply),
    };
    if let Some(state) = ipc.causal.get_mut(&me) {
        state.replied();
    }
    log::trace!("ipc.reply causal={}", msg.causal.0);
    crate::metrics::count(crate::metrics::Counter::IpcMessages);
    let args = [
        trace::thread_word(Some(caller)),
        u64::from(info.words),
        words[0],
        0,
    ];
    let note = ReplyNote {
        args,
        causal: msg.causal.0,
    };
    Ok((deliver(&mut ipc, caller, message(&msg, false, false)), note))
}
