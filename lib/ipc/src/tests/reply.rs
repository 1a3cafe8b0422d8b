//! Reply rights: used once, one at a time, gone callers and servers,
//! stale tokens.

use super::*;

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
