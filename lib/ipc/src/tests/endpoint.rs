//! Endpoints: rendezvous, arrival order, non-blocking operations,
//! cancel and close.

use super::*;

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

/// Issue 14: a queue that once held many waiters does not keep their room.
#[test]
fn a_drained_queue_gives_its_room_back() {
    let mut ep = Ep::new();
    for t in 0..1000 {
        assert_eq!(
            ep.send(t, 0, Msg(t), SendKind::Send, true),
            Ok(SendOutcome::Blocked)
        );
    }
    assert!(ep.room_bytes() > Ep::IDLE_BYTES);
    for _ in 0..990 {
        assert!(matches!(
            ep.recv(5000, true),
            Ok(RecvOutcome::Received { .. })
        ));
        checked(&ep);
    }
    // Ten senders left: room for at most forty of each.
    assert!(ep.room_bytes() <= 10 * Ep::WAITER_BYTES);
    for t in 990..1000 {
        assert!(ep.cancel(t).is_some());
        checked(&ep);
    }
    assert!(ep.room_bytes() <= Ep::IDLE_BYTES);
    // Receivers too, and a short queue keeps its room (no allocation per
    // round trip).
    for t in 0..100 {
        assert_eq!(ep.recv(t, true), Ok(RecvOutcome::Blocked));
    }
    for t in 0..100 {
        assert!(matches!(
            ep.send(9000 + t, 0, Msg(0), SendKind::Send, true),
            Ok(SendOutcome::Delivered { .. })
        ));
    }
    assert!(ep.room_bytes() <= Ep::IDLE_BYTES);
    assert_eq!(ep.recv(1, true), Ok(RecvOutcome::Blocked));
    let kept = ep.room_bytes();
    assert!(kept > 0 && kept <= Ep::IDLE_BYTES);
    assert!(matches!(
        ep.send(2, 0, Msg(0), SendKind::Send, true),
        Ok(SendOutcome::Delivered { .. })
    ));
    assert_eq!(ep.room_bytes(), kept);
}
