//! Unit tests, one behaviour each: endpoint rendezvous and queues, reply
//! rights, notification words, causal ids, and a whole call round trip
//! the way the kernel will drive it.

use super::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

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

// ----- endpoints -----

#[test]
fn a_sender_waits_for_a_receiver() {
    let mut ep = Ep::new();
    let out = ep.send(1, 7, Msg(10), SendKind::Send, true);
    assert_eq!(out, Ok(SendOutcome::Blocked));
    assert_eq!(ep.senders().collect::<Vec<_>>(), vec![1]);
    checked(&ep);
    assert_eq!(ep.recv(2, true), Ok(received(1, 7, 10, SendKind::Send)));
    assert_eq!(ep.senders().len(), 0);
    checked(&ep);
}

#[test]
fn a_receiver_waits_for_a_sender() {
    let mut ep = Ep::new();
    assert_eq!(ep.recv(2, true), Ok(RecvOutcome::Blocked));
    assert_eq!(ep.receivers().collect::<Vec<_>>(), vec![2]);
    let out = ep.send(1, 7, Msg(10), SendKind::Call, true);
    assert_eq!(out, Ok(delivered(2, 10, 7, SendKind::Call)));
    assert_eq!(ep.receivers().len(), 0);
    checked(&ep);
}

#[test]
fn senders_are_served_in_arrival_order() {
    let mut ep = Ep::new();
    for t in [3, 1, 2] {
        let out = ep.send(t, u64::from(t), Msg(t * 10), SendKind::Send, true);
        assert_eq!(out, Ok(SendOutcome::Blocked));
    }
    assert_eq!(ep.senders().collect::<Vec<_>>(), vec![3, 1, 2]);
    for t in [3, 1, 2] {
        let out = ep.recv(9, true);
        assert_eq!(out, Ok(received(t, u64::from(t), t * 10, SendKind::Send)));
        checked(&ep);
    }
}

#[test]
fn receivers_are_served_in_arrival_order() {
    let mut ep = Ep::new();
    for t in [3, 1, 2] {
        assert_eq!(ep.recv(t, true), Ok(RecvOutcome::Blocked));
    }
    for t in [3, 1, 2] {
        let out = ep.send(9, 0, Msg(t), SendKind::Send, true);
        assert_eq!(out, Ok(delivered(t, t, 0, SendKind::Send)));
        checked(&ep);
    }
}

#[test]
fn non_blocking_send_without_receiver_would_block_and_queues_nothing() {
    let mut ep = Ep::new();
    let out = ep.send(1, 0, Msg(1), SendKind::Send, false);
    assert_eq!(out, Err(IpcError::WouldBlock));
    assert_eq!(ep.senders().len(), 0);
    checked(&ep);
}

#[test]
fn non_blocking_send_reaches_a_waiting_receiver() {
    let mut ep = Ep::new();
    ep.recv(2, true).unwrap();
    let out = ep.send(1, 5, Msg(1), SendKind::Send, false);
    assert_eq!(out, Ok(delivered(2, 1, 5, SendKind::Send)));
}

#[test]
fn non_blocking_recv_without_sender_would_block_and_queues_nothing() {
    let mut ep = Ep::new();
    assert_eq!(ep.recv(2, false), Err(IpcError::WouldBlock));
    assert_eq!(ep.receivers().len(), 0);
    ep.send(1, 0, Msg(4), SendKind::Send, true).unwrap();
    assert_eq!(ep.recv(2, false), Ok(received(1, 0, 4, SendKind::Send)));
    checked(&ep);
}

#[test]
fn a_waiting_thread_cannot_queue_again() {
    let mut ep = Ep::new();
    ep.send(1, 0, Msg(1), SendKind::Send, true).unwrap();
    let again = ep.send(1, 0, Msg(2), SendKind::Send, true);
    assert_eq!(again, Err(IpcError::AlreadyQueued));
    assert_eq!(ep.recv(1, true), Err(IpcError::AlreadyQueued));
    assert_eq!(ep.senders().len(), 1);

    let mut ep = Ep::new();
    ep.recv(2, true).unwrap();
    assert_eq!(ep.recv(2, false), Err(IpcError::AlreadyQueued));
    let to_self = ep.send(2, 0, Msg(1), SendKind::Send, true);
    assert_eq!(to_self, Err(IpcError::AlreadyQueued));
    assert_eq!(ep.receivers().len(), 1);
    checked(&ep);
}

#[test]
fn cancel_gives_back_a_senders_message_and_keeps_the_others_in_order() {
    let mut ep = Ep::new();
    for t in 1..=3 {
        ep.send(t, 40 + u64::from(t), Msg(t), SendKind::Call, true)
            .unwrap();
    }
    let cancelled = Cancelled::Sender {
        badge: 42,
        msg: Msg(2),
        kind: SendKind::Call,
    };
    assert_eq!(ep.cancel(2), Some(cancelled));
    assert!(!ep.is_queued(2));
    assert_eq!(ep.cancel(2), None);
    checked(&ep);
    assert_eq!(ep.recv(9, true), Ok(received(1, 41, 1, SendKind::Call)));
    assert_eq!(ep.recv(9, true), Ok(received(3, 43, 3, SendKind::Call)));
}

#[test]
fn cancel_takes_out_a_receiver() {
    let mut ep = Ep::new();
    ep.recv(1, true).unwrap();
    ep.recv(2, true).unwrap();
    assert_eq!(ep.cancel(1), Some(Cancelled::Receiver));
    assert_eq!(ep.cancel(7), None);
    checked(&ep);
    let out = ep.send(9, 0, Msg(0), SendKind::Send, true);
    assert_eq!(out, Ok(delivered(2, 0, 0, SendKind::Send)));
}

#[test]
fn close_turns_out_every_waiter_and_later_operations_fail() {
    let mut ep = Ep::new();
    for t in [4, 2, 6] {
        ep.send(t, 0, Msg(t), SendKind::Send, true).unwrap();
    }
    let closed = ep.close();
    assert_eq!(closed.senders, vec![4, 2, 6]);
    assert!(closed.receivers.is_empty());
    assert!(ep.is_closed());
    checked(&ep);
    let send = ep.send(1, 0, Msg(0), SendKind::Send, false);
    assert_eq!(send, Err(IpcError::Closed));
    assert_eq!(ep.recv(1, true), Err(IpcError::Closed));
    assert_eq!(ep.cancel(4), None);
    assert_eq!(ep.close(), Closed::default());

    let mut ep = Ep::new();
    ep.recv(3, true).unwrap();
    ep.recv(1, true).unwrap();
    let closed = ep.close();
    assert_eq!(closed.receivers, vec![3, 1]);
    assert!(closed.senders.is_empty());
    checked(&ep);
}

// ----- replies -----

#[test]
fn a_reply_right_is_used_once() {
    let mut r = Replies::new();
    let token = r.bind(10, 1).unwrap();
    let pending = Pending {
        token,
        caller: Some(1),
    };
    assert_eq!(r.pending(10), Some(pending));
    assert_eq!(r.awaiting(1), Some(10));
    assert_eq!(r.take(10), Ok(1));
    assert_eq!(r.take(10), Err(IpcError::NoReplyPending));
    assert_eq!(r.pending(10), None);
    assert!(r.is_empty());
    r.check_invariants().unwrap();
}

#[test]
fn a_server_holds_one_right_at_a_time() {
    let mut r = Replies::new();
    r.bind(10, 1).unwrap();
    assert_eq!(r.bind(10, 2), Err(IpcError::ReplyPending));
    assert_eq!(r.awaiting(2), None);
    assert_eq!(r.discard(10), Some(1));
    r.bind(10, 2).unwrap();
    assert_eq!(r.take(10), Ok(2));
    r.check_invariants().unwrap();
}

#[test]
fn a_caller_waits_for_one_reply_at_a_time() {
    let mut r = Replies::new();
    r.bind(10, 1).unwrap();
    assert_eq!(r.bind(11, 1), Err(IpcError::AlreadyQueued));
    assert_eq!(r.len(), 1);
    r.check_invariants().unwrap();
}

#[test]
fn a_gone_caller_is_never_replied_to() {
    let mut r = Replies::new();
    let token = r.bind(10, 1).unwrap();
    assert!(r.caller_gone(1));
    assert!(!r.caller_gone(1));
    assert_eq!(r.awaiting(1), None);
    let pending = Pending {
        token,
        caller: None,
    };
    assert_eq!(r.pending(10), Some(pending));
    // The id is free again: the thread (or its successor) may call anew.
    r.bind(11, 1).unwrap();
    assert_eq!(r.take(10), Err(IpcError::CallerGone));
    assert_eq!(r.take(10), Err(IpcError::NoReplyPending));
    assert_eq!(r.take(11), Ok(1));
    r.check_invariants().unwrap();
}

#[test]
fn a_gone_server_hands_back_its_caller() {
    let mut r = Replies::new();
    r.bind(10, 1).unwrap();
    r.bind(11, 2).unwrap();
    assert_eq!(r.server_gone(10), Some(1));
    assert_eq!(r.server_gone(10), None);
    r.caller_gone(2);
    assert_eq!(r.server_gone(11), None, "its caller is gone too");
    assert!(r.is_empty());
    r.check_invariants().unwrap();
}

#[test]
fn a_stale_token_cannot_answer_a_later_call() {
    let mut r = Replies::new();
    let old = r.bind(10, 1).unwrap();
    assert_eq!(r.take_token(10, old), Ok(1));
    assert_eq!(r.take_token(10, old), Err(IpcError::NoReplyPending));
    let new = r.bind(10, 2).unwrap();
    assert_ne!(old, new);
    assert_eq!(r.take_token(10, old), Err(IpcError::StaleReply));
    assert_eq!(r.awaiting(2), Some(10), "the refusal kept the right");
    r.caller_gone(2);
    assert_eq!(r.take_token(10, new), Err(IpcError::CallerGone));
    assert!(r.is_empty());
}

#[test]
fn reserved_room_is_used_by_bind() {
    let mut r = Replies::new();
    r.reserve(3).unwrap();
    for s in 0..3 {
        r.bind(s, s + 10).unwrap();
    }
    r.check_invariants().unwrap();
}

// ----- notifications -----

#[test]
fn signals_accumulate_and_a_wait_takes_them_all() {
    let mut n = Notification::<u32>::new();
    assert_eq!(n.signal(0b001), Ok(None));
    assert_eq!(n.signal(0b100), Ok(None));
    assert_eq!(n.signal(0b001), Ok(None));
    assert_eq!(n.word(), 0b101);
    assert_eq!(n.wait(1, true), Ok(WaitOutcome::Ready(0b101)));
    assert_eq!(n.word(), 0);
    n.check_invariants().unwrap();
}

#[test]
fn a_signal_wakes_the_oldest_waiter_with_the_word() {
    let mut n = Notification::new();
    assert_eq!(n.wait(2, true), Ok(WaitOutcome::Blocked));
    assert_eq!(n.wait(1, true), Ok(WaitOutcome::Blocked));
    assert_eq!(n.waiters().collect::<Vec<_>>(), vec![2, 1]);
    n.check_invariants().unwrap();
    assert_eq!(n.signal(0b110), Ok(Some((2, 0b110))));
    assert_eq!(n.word(), 0);
    assert_eq!(n.signal(0b1), Ok(Some((1, 0b1))));
    assert_eq!(n.signal(0b1), Ok(None));
    n.check_invariants().unwrap();
}

#[test]
fn a_zero_signal_does_nothing() {
    let mut n = Notification::new();
    n.wait(1, true).unwrap();
    assert_eq!(n.signal(0), Ok(None));
    assert_eq!(n.waiters().len(), 1);
    n.check_invariants().unwrap();
}

#[test]
fn non_blocking_wait_and_poll() {
    let mut n = Notification::new();
    assert_eq!(n.wait(1, false), Err(IpcError::WouldBlock));
    assert_eq!(n.poll(), Ok(0));
    n.signal(0x80).unwrap();
    assert_eq!(n.poll(), Ok(0x80));
    assert_eq!(n.poll(), Ok(0));
    n.signal(0x40).unwrap();
    assert_eq!(n.wait(1, false), Ok(WaitOutcome::Ready(0x40)));
    assert_eq!(n.waiters().len(), 0);
}

#[test]
fn a_waiter_waits_once_and_can_be_cancelled() {
    let mut n = Notification::new();
    n.wait(1, true).unwrap();
    n.wait(2, true).unwrap();
    assert_eq!(n.wait(1, true), Err(IpcError::AlreadyQueued));
    assert!(n.cancel(1));
    assert!(!n.cancel(1));
    assert_eq!(n.signal(1), Ok(Some((2, 1))));
    n.check_invariants().unwrap();
}

#[test]
fn closing_a_notification_turns_out_its_waiters() {
    let mut n = Notification::new();
    n.wait(3, true).unwrap();
    n.wait(1, true).unwrap();
    assert_eq!(n.close(), vec![3, 1]);
    assert!(n.is_closed());
    assert_eq!(n.signal(1), Err(IpcError::Closed));
    assert_eq!(n.wait(3, true), Err(IpcError::Closed));
    assert_eq!(n.poll(), Err(IpcError::Closed));
    assert!(n.close().is_empty());
    n.check_invariants().unwrap();

    let mut n = Notification::<u32>::new();
    n.signal(5).unwrap();
    assert!(n.close().is_empty());
    assert_eq!(n.word(), 0, "pending bits go with the notification");
    n.check_invariants().unwrap();
}

// ----- causal ids -----

/// Fresh ids 100, 101, ...
fn generator() -> impl FnMut() -> CausalId {
    let mut next = 100;
    move || {
        next += 1;
        CausalId(next - 1)
    }
}

#[test]
fn one_id_follows_a_client_server_driver_chain() {
    let mut fresh = generator();
    let client = CausalState::new();
    let mut server = CausalState::new();
    let mut driver = CausalState::new();

    // The client handles nothing: its call starts a chain.
    let id = client.outgoing(&mut fresh);
    assert_eq!(id, CausalId(100));
    server.received(id);
    // The server calls the driver on the client's behalf.
    let to_driver = server.outgoing(&mut fresh);
    assert_eq!(to_driver, id);
    driver.received(to_driver);
    assert_eq!(driver.handling, Some(id));
    // The driver replies; the server, back from its call, still handles
    // the client's request, then replies too.
    driver.replied();
    assert_eq!(driver.handling, None);
    assert_eq!(server.handling, Some(id));
    server.replied();
    assert_eq!(server.handling, None);
    assert_eq!(client.handling, None);

    // The next call from the client is a new chain.
    assert_eq!(client.outgoing(&mut fresh), CausalId(101));
}

#[test]
fn the_generator_is_asked_only_for_new_chains() {
    let mut state = CausalState::new();
    state.received(CausalId(7));
    let id = state.outgoing(|| panic!("a handled request needs no fresh id"));
    assert_eq!(id, CausalId(7));
}

#[test]
fn reply_recv_clears_then_takes_the_next_id() {
    let mut server = CausalState::new();
    server.received(CausalId(1));
    server.replied();
    assert_eq!(server.handling, None);
    server.received(CausalId(2));
    assert_eq!(server.handling, Some(CausalId(2)));
    // An untraced message: nothing handled, so onward messages start
    // chains of their own.
    server.received(CausalId::NONE);
    assert_eq!(server.handling, None);
    assert_eq!(server.outgoing(|| CausalId(9)), CausalId(9));
}

#[test]
fn causal_ids_display() {
    assert_eq!(CausalId(0x2a).to_string(), "causal 0x2a");
    assert_eq!(CausalId::NONE.to_string(), "causal -");
    assert!(CausalId::default().is_none());
}

// ----- errors -----

#[test]
fn every_error_has_its_own_message() {
    let all = [
        IpcError::WouldBlock,
        IpcError::Closed,
        IpcError::AlreadyQueued,
        IpcError::ReplyPending,
        IpcError::NoReplyPending,
        IpcError::CallerGone,
        IpcError::StaleReply,
        IpcError::OutOfMemory,
    ];
    let texts: Vec<_> = all.iter().map(ToString::to_string).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(!t.is_empty());
        assert!(!texts[..i].contains(t), "{t} twice");
    }
}

// ----- a whole call, the way the kernel drives it -----

#[test]
fn a_call_round_trip_with_reply_recv() {
    const CLIENT: u32 = 1;
    const SERVER: u32 = 2;
    let mut ep = Ep::new();
    let mut replies = Replies::new();
    replies.reserve(2).unwrap();

    // The server waits first.
    assert_eq!(ep.recv(SERVER, true), Ok(RecvOutcome::Blocked));
    // The client calls with badge 5: delivered, so the server owes it.
    let out = ep.send(CLIENT, 5, Msg(1), SendKind::Call, true);
    let Ok(SendOutcome::Delivered { receiver, kind, .. }) = out else {
        panic!("not delivered: {out:?}");
    };
    assert_eq!((receiver, kind), (SERVER, SendKind::Call));
    replies.bind(receiver, CLIENT).unwrap();

    // Reply-and-receive: the reply wakes the client; the receive waits.
    assert_eq!(replies.take(SERVER), Ok(CLIENT));
    assert_eq!(ep.recv(SERVER, true), Ok(RecvOutcome::Blocked));

    // The client calls again, then gives up (a timeout) before the reply.
    ep.send(CLIENT, 5, Msg(2), SendKind::Call, true).unwrap();
    replies.bind(SERVER, CLIENT).unwrap();
    assert!(replies.caller_gone(CLIENT));
    assert_eq!(replies.take(SERVER), Err(IpcError::CallerGone));
    checked(&ep);
    replies.check_invariants().unwrap();
}
