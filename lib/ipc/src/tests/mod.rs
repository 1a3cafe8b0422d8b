//! Unit tests, one behaviour each, by topic: `endpoint` (rendezvous and
//! queues), `reply` (reply rights), `notification` (notification words),
//! `causal` (causal ids), `call` (error messages, and a whole call round
//! trip the way the kernel will drive it); `props` holds the property
//! tests. The helpers here are shared.

use super::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

mod call;
mod causal;
mod endpoint;
mod notification;
mod props;
mod reply;

/// A payload that cannot be copied, so a test that compiles delivers
/// each message by moving it.
#[derive(Debug, PartialEq, Eq)]
struct Msg(u32);

type Ep = Endpoint<u32, Msg>;

fn checked(ep: &Ep) {
    ep.check_invariants().unwrap();
}

fn delivered(receiver: u32, msg: u32, badge: u64, kind: SendKind) -> SendOutcome<u32, Msg> {
    SendOutcome::Delivered {
        receiver,
        msg: Msg(msg),
        badge,
        kind,
    }
}

fn received(sender: u32, badge: u64, msg: u32, kind: SendKind) -> RecvOutcome<u32, Msg> {
    RecvOutcome::Received {
        sender,
        badge,
        msg: Msg(msg),
        kind,
    }
}
