//! IPC calls: endpoints (`endpoint_create`, `ipc_send`, `ipc_call`,
//! `ipc_recv`, `ipc_reply`, `ipc_reply_recv`) and notifications
//! (`notification_create`, `notification_signal`, `notification_wait`,
//! `notification_poll`). The mechanism is `crate::ipc`.

use super::memory::create_from_memory;
use crate::cap::Object;
use crate::ipc;
use crate::process::Process;
use ferrous_abi::{
    Handle, MSG_WORDS, MsgInfo, ObjectType, Received, RecvInfo, Rights, SysError, Sysno,
};

type Words = [u64; MSG_WORDS];

fn message((badge, info, words): ipc::Received) -> Received {
    Received { badge, info, words }
}

fn target(
    me: &Process,
    op: Sysno,
    endpoint: Handle,
    needed: Rights,
) -> Result<ipc::Target, SysError> {
    ipc::endpoint_target(me.id, me.cspace, op, endpoint, needed)
}

pub fn endpoint_create(me: &Process, memory: Handle) -> Result<u64, SysError> {
    let op = Sysno::EndpointCreate;
    create_from_memory(me, op, memory, ObjectType::Endpoint, |m| {
        ipc::create_endpoint(me.id, m).map(Object::Endpoint)
    })
}

pub fn notification_create(me: &Process, memory: Handle) -> Result<u64, SysError> {
    let op = Sysno::NotificationCreate;
    create_from_memory(me, op, memory, ObjectType::Notification, |m| {
        ipc::create_notification(m).map(Object::Notification)
    })
}

pub fn send(
    me: &Process,
    endpoint: Handle,
    info: MsgInfo,
    words: Words,
) -> Result<Received, SysError> {
    let t = target(me, Sysno::IpcSend, endpoint, Rights::SEND)?;
    ipc::send(&t, info, words, false).map(message)
}

pub fn call(
    me: &Process,
    endpoint: Handle,
    info: MsgInfo,
    words: Words,
) -> Result<Received, SysError> {
    let t = target(me, Sysno::IpcCall, endpoint, Rights::SEND)?;
    ipc::send(&t, info, words, true).map(message)
}

pub fn recv(me: &Process, endpoint: Handle, info: MsgInfo) -> Result<Received, SysError> {
    let t = target(me, Sysno::IpcRecv, endpoint, Rights::RECEIVE)?;
    ipc::recv(&t, info).map(message)
}

/// A reply leaves the message registers zeroed.
pub fn reply(me: &Process, info: MsgInfo, words: Words) -> Result<Received, SysError> {
    ipc::reply(me.cspace, info, words).map(|()| Received {
        badge: 0,
        info: RecvInfo::default(),
        words: [0; MSG_WORDS],
    })
}

pub fn reply_recv(
    me: &Process,
    endpoint: Handle,
    info: MsgInfo,
    words: Words,
) -> Result<Received, SysError> {
    let t = target(me, Sysno::IpcReplyRecv, endpoint, Rights::RECEIVE)?;
    ipc::reply_recv(&t, info, words).map(message)
}

pub fn signal(me: &Process, notification: Handle, bits: u64) -> Result<u64, SysError> {
    let op = Sysno::NotificationSignal;
    let (id, held) = ipc::notification_target(me.cspace, op, notification, Rights::SIGNAL)?;
    ipc::signal(id, &held, bits).map(|()| 0)
}

pub fn wait(me: &Process, notification: Handle, timeout_ns: u64) -> Result<u64, SysError> {
    let op = Sysno::NotificationWait;
    let (id, held) = ipc::notification_target(me.cspace, op, notification, Rights::WAIT)?;
    ipc::wait_bits(id, &held, timeout_ns)
}

pub fn poll(me: &Process, notification: Handle) -> Result<u64, SysError> {
    let op = Sysno::NotificationPoll;
    let (id, held) = ipc::notification_target(me.cspace, op, notification, Rights::WAIT)?;
    ipc::poll(id, &held)
}
