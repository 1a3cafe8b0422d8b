//! Decode checks of the IPC calls: message infos, words and replies.

use super::*;

/// Every [`MsgInfo`] argument: argument 1 of the IPC calls.
#[test]
fn message_calls_refuse_bad_info() {
    for (s, i, kind) in args_where(|k| matches!(k, Kind::Info | Kind::ReplyInfo)) {
        let (nr, sample) = (s.nr(), s.regs[i]);
        let with = |info: u64| s.decode_with(i, info);
        let reserved = Err(SysError::ReservedBitsSet { arg: i as u8 });
        // Every reserved bit, alone and next to valid fields.
        for bit in (3..4).chain(5..8).chain(16..32) {
            assert_eq!(with(1 << bit), reserved, "{nr} bit {bit}");
            assert_eq!(with(sample | 1 << bit), reserved, "{nr} bit {bit}");
        }
        assert_eq!(with(u64::MAX), reserved, "{nr}");
        // More words than a message has.
        for words in 5..8 {
            assert_eq!(with(words), reserved, "{nr} {words} words");
            assert_eq!(with(sample & !7 | words), reserved, "{nr} {words} words");
        }
        // Every defined field at its extremes (a reply's capability slot
        // stays 0: replies carry none).
        let slot = if kind == Kind::ReplyInfo { 0 } else { 0xff };
        for words in 0..=MSG_WORDS as u64 {
            let max = words | 1 << 4 | slot << 8 | 0xffff_ffff << 32;
            for info in [words, max] {
                s.takes(i, info);
            }
        }
    }
}

/// The words are the caller's: any values, those beyond the word count
/// included; decode neither checks nor clears them.
#[test]
fn message_words_take_any_bits() {
    for s in SAMPLES.iter().filter(|s| s.args.contains(&Kind::Word)) {
        let nr = s.nr();
        let is_info = |k: &Kind| matches!(k, Kind::Info | Kind::ReplyInfo);
        let info = s.args.iter().position(is_info).unwrap();
        let first = s.args.iter().position(|&k| k == Kind::Word).unwrap();
        for words in [[0; 4], [u64::MAX; 4], [1 << 63, 1 << 32, 1, USER_END]] {
            for count in [0, 4] {
                let mut args = s.with(info, count);
                args[first..first + MSG_WORDS].copy_from_slice(&words);
                let call = decode(nr, args).unwrap();
                assert_eq!(call.encode(), (nr as u64, args), "{call}");
                let shown = format!("words={words:x?})");
                assert!(call.to_string().ends_with(&shown), "{call}");
            }
        }
    }
}

/// `ipc_reply` answers the caller this thread received: `rdi` names no
/// endpoint and must be 0.
#[test]
fn ipc_reply_names_no_endpoint() {
    for rdi in [1, 7, 1 << 32, u64::MAX] {
        assert_eq!(
            decode(Sysno::IpcReply, [rdi, 1, 2, 0, 0, 0]),
            Err(SysError::UnusedArgumentNotZero { arg: 0 }),
            "{rdi:#x}"
        );
    }
    assert_eq!(
        decode(Sysno::IpcReply, [0, 1, 2, 0, 0, 0]),
        Ok(Syscall::IpcReply {
            info: MsgInfo::words(1),
            words: [2, 0, 0, 0]
        })
    );
}

/// Replies carry words only: decode refuses a reply whose info names a
/// capability slot, with `ReservedBitsSet` on argument 1, alone or next
/// to every other field. In `ipc_reply_recv` the slot is the receive's.
#[test]
fn ipc_reply_carries_no_capability() {
    let reserved = Err(SysError::ReservedBitsSet { arg: 1 });
    for slot in 0..=0xffu64 {
        let full = 4 | 1 << 4 | slot << 8 | 0xffff_ffff << 32;
        for info in [slot << 8, 1 | slot << 8, full] {
            let reply = decode(Sysno::IpcReply, [0, info, 1, 2, 3, 4]);
            if slot == 0 {
                assert_eq!(reply.map(|c| c.encode().1[1]), Ok(info), "{info:#x}");
            } else {
                assert_eq!(reply, reserved, "{info:#x}");
            }
            let reply_recv = decode(Sysno::IpcReplyRecv, [7, info, 1, 2, 3, 4]);
            assert_eq!(reply_recv.map(|c| c.encode().1[1]), Ok(info), "{info:#x}");
        }
    }
    // The type can hold a slot; what it encodes does not decode.
    let call = Syscall::IpcReply {
        info: MsgInfo {
            cap_slot: 9,
            ..MsgInfo::words(1)
        },
        words: [0; 4],
    };
    let (nr, args) = call.encode();
    assert_eq!(Syscall::decode(nr, args), reserved);
}
