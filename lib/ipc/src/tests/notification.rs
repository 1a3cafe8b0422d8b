//! Notification words: signals accumulate, waiters, polls and close.

use super::*;

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

/// Issue 14: a notification that once had many waiters does not keep
/// their room.
#[test]
fn a_drained_notification_gives_its_room_back() {
    let mut n = Notification::<u32>::new();
    for t in 0..500 {
        assert_eq!(n.wait(t, true), Ok(WaitOutcome::Blocked));
    }
    for t in 0..250 {
        assert!(n.cancel(t));
        n.check_invariants().unwrap();
    }
    for _ in 0..250 {
        assert!(n.signal(1).unwrap().is_some());
        n.check_invariants().unwrap();
    }
    assert!(n.room_bytes() <= Notification::<u32>::IDLE_BYTES);
    assert_eq!(Notification::<u32>::IDLE_BYTES, 4 * 4);
}
