//! Property tests of the words: errors, results, exit statuses, grants,
//! capability and message infos.

use super::props::{msg_info, msg_info_word, rights};
use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Every known error, with any valid argument index, rights and word.
fn sys_error() -> impl Strategy<Value = SysError> {
    (
        proptest::sample::select(ErrorCode::ALL),
        0..6u8,
        rights(),
        any::<u64>(),
    )
        .prop_map(|(code, arg, missing, word)| make_error(code, arg, missing, word))
}

/// Detail words: anything, or an argument index with a rights field near
/// the defined rights, so `MissingRight` words are often well-formed.
fn detail_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0..16u64,
        (0..8u64, 0..=2 * u64::from(Rights::ALL.bits())).prop_map(|(arg, r)| arg | r << 8),
        (0..8u64, any::<u32>(), 0..4u64)
            .prop_map(|(arg, r, hi)| arg | u64::from(r) << 8 | hi << 40),
    ]
}

/// Status words: anything, or a kind near the defined ones with a value
/// near the edges.
fn status_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (
            0..4u64,
            prop_oneof![0..2u64, 0..=0x1ffu64, any::<u32>().prop_map(u64::from)]
        )
            .prop_map(|(kind, value)| kind << 32 | value),
    ]
}

/// CapInfo words: anything, or fields near the defined ones.
fn cap_info_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (
            0..=2 * u64::from(Rights::ALL.bits()),
            0..16u64,
            0..2u64,
            prop_oneof![3 => Just(0u64), 1 => 0..4u64],
        )
            .prop_map(|(rights, kind, badged, hi)| rights | kind << 32 | badged << 40 | hi << 41),
    ]
}

proptest! {
    // Every case is a few hundred nanoseconds; search wider than the default.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn errors_round_trip(e in sys_error()) {
        let kind = e.kind().unwrap();
        prop_assert_eq!(e.code(), kind as u64);
        prop_assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
        let (rax, rdx) = encode_result(Err(e));
        prop_assert_eq!(decode_result(rax, rdx), Err(e));
        match kind.detail() {
            Detail::None => prop_assert_eq!(rdx, 0),
            Detail::Arg => prop_assert!(rdx < 6),
            Detail::ArgRights => {
                let SysError::MissingRight { arg, missing } = e else {
                    unreachable!()
                };
                prop_assert_eq!(rdx & 0xff, u64::from(arg));
                prop_assert_eq!(rdx >> 8, u64::from(missing.bits()));
            }
            Detail::Addr | Detail::Number => {}
        }
        if let Some(arg) = e.arg() {
            prop_assert!((arg as usize) < ARG_REGISTERS.len());
        }
        prop_assert!(!e.to_string().is_empty());
    }

    #[test]
    fn from_code_is_total(code in prop_oneof![0..64u64, any::<u64>()], detail in detail_word()) {
        let arg_ok = detail & 0xff < 6;
        let expect = ErrorCode::from_raw(code).map(|c| match c.detail() {
            Detail::Arg => arg_ok,
            Detail::ArgRights => arg_ok && detail >> 8 <= u64::from(Rights::ALL.bits()),
            Detail::None | Detail::Addr | Detail::Number => true,
        });
        let got = SysError::from_code(code, detail);
        prop_assert_eq!(got.is_some(), expect == Some(true));
        if let Some(e) = got {
            prop_assert_eq!(e.code(), code);
            prop_assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
            // What is kept of the detail: all of it, the index, or nothing.
            let kept = match e.kind().unwrap().detail() {
                Detail::None => 0,
                Detail::Arg => detail & 0xff,
                Detail::ArgRights | Detail::Addr | Detail::Number => detail,
            };
            prop_assert_eq!(e.detail(), kept);
            let _ = e.to_string();
        }
        let decoded = decode_result(code, detail);
        if code == 0 {
            prop_assert_eq!(decoded, Ok(detail));
        } else {
            let e = decoded.unwrap_err();
            prop_assert_eq!(decode_result(e.code(), e.detail()), Err(e));
            if got.is_none() {
                // Unknown words are kept as they came.
                prop_assert_eq!((e.kind(), e.code(), e.detail()), (None, code, detail));
            }
            let _ = e.to_string();
        }
    }

    #[test]
    fn results_round_trip(value in any::<u64>(), code in 0..64u64, detail in detail_word()) {
        prop_assert_eq!(decode_result(0, value), Ok(value));
        if let Some(e) = SysError::from_code(code, detail) {
            prop_assert_eq!(decode_result(encode_result(Err(e)).0, encode_result(Err(e)).1), Err(e));
        }
    }

    #[test]
    fn exit_status_from_raw_is_total(raw in status_word(), code in any::<u32>(), vector in any::<u8>()) {
        let (kind, value) = (raw >> 32, raw & 0xffff_ffff);
        let defined = kind == 0 || (kind == 1 && value <= 0xff) || (kind == 2 && value == 0);
        prop_assert_eq!(ExitStatus::from_raw(raw).is_some(), defined);
        if let Some(s) = ExitStatus::from_raw(raw) {
            prop_assert_eq!(s.to_raw(), raw);
        }
        for s in [ExitStatus::Exited { code }, ExitStatus::Faulted { vector }, ExitStatus::Killed] {
            prop_assert_eq!(ExitStatus::from_raw(s.to_raw()), Some(s));
        }
    }

    #[test]
    fn grants_round_trip_through_bytes(slot in any::<u32>(), rights in any::<u32>(), bytes in any::<[u8; 8]>()) {
        let g = Grant { slot, rights };
        prop_assert_eq!(Grant::from_bytes(g.to_bytes()), g);
        prop_assert_eq!(Grant::from_bytes(bytes).to_bytes(), bytes);
        let r = Rights::from_bits_truncate(rights);
        prop_assert_eq!(Grant::new(Handle(slot), r), Grant { slot, rights: r.bits() });
    }

    #[test]
    fn cap_info_round_trips(
        kind in proptest::sample::select(ObjectType::ALL),
        rights in rights(),
        badged in any::<bool>(),
    ) {
        let info = CapInfo { kind, rights, badged };
        prop_assert_eq!(CapInfo::from_raw(info.to_raw()), Some(info));
    }

    #[test]
    fn msg_info_round_trips(info in msg_info()) {
        let raw = info.to_raw();
        prop_assert_eq!(MsgInfo::from_raw(raw), Some(info));
        prop_assert_eq!(raw & !MSG_INFO_DEFINED, 0);
        let ns = info.timeout_ns();
        if info.nonblocking {
            prop_assert_eq!(ns, 0);
        } else if info.timeout_us == 0 {
            prop_assert_eq!(ns, WAIT_FOREVER);
        } else {
            prop_assert_eq!(ns, u64::from(info.timeout_us) * 1000);
        }
    }

    #[test]
    fn msg_info_from_raw_is_total(raw in msg_info_word()) {
        let defined = raw & !MSG_INFO_DEFINED == 0 && raw & 7 <= MSG_WORDS as u64;
        prop_assert_eq!(MsgInfo::from_raw(raw).is_some(), defined);
        if let Some(info) = MsgInfo::from_raw(raw) {
            prop_assert_eq!(info.to_raw(), raw);
            prop_assert!(usize::from(info.words) <= MSG_WORDS);
        }
    }

    #[test]
    fn recv_info_round_trips(
        words in 0..8u8,
        cap_received in any::<bool>(),
        is_call in any::<bool>(),
        causal in any::<u32>(),
        raw in any::<u64>(),
    ) {
        let info = RecvInfo { words, cap_received, is_call, causal };
        prop_assert_eq!(RecvInfo::from_raw(info.to_raw()), info);
        prop_assert_eq!(info.to_raw() & !RECV_INFO_DEFINED, 0);
        // Reading is total: reserved bits are dropped, the rest kept.
        prop_assert_eq!(RecvInfo::from_raw(raw).to_raw(), raw & RECV_INFO_DEFINED);
    }

    #[test]
    fn cap_info_from_raw_is_total(raw in cap_info_word()) {
        let defined = Rights::from_bits(raw as u32).is_some()
            && ObjectType::from_raw((raw >> 32) as u8).is_some()
            && raw >> 41 == 0;
        prop_assert_eq!(CapInfo::from_raw(raw).is_some(), defined);
        if let Some(info) = CapInfo::from_raw(raw) {
            prop_assert_eq!(info.to_raw(), raw);
        }
    }
}

/// The same for the error strategy: every code, and `MissingRight` with
/// rights of both kinds.
#[test]
fn error_strategy_reaches_every_code() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = sys_error();
    let mut codes = BTreeSet::new();
    let mut rights_seen = Rights::NONE;
    for _ in 0..10_000 {
        let e = strategy.new_tree(&mut runner).unwrap().current();
        codes.insert(e.kind().unwrap());
        if let SysError::MissingRight { missing, .. } = e {
            rights_seen = rights_seen | missing;
        }
    }
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    assert_eq!(rights_seen, Rights::ALL);
}
