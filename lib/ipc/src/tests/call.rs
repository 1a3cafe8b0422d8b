//! Every error's message, and a whole call the way the kernel drives it.

use super::*;

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
