//! Error codes and details through the result registers.

use super::*;

/// One error of each code, with a non-trivial detail where it has one.
fn every_error() -> Vec<SysError> {
    ErrorCode::ALL
        .iter()
        .map(|&c| {
            let detail = match c.detail() {
                Detail::None => 0,
                Detail::Arg => 3,
                Detail::ArgRights => 3 | u64::from(MISSING.bits()) << 8,
                Detail::Addr => 0x7fff_1000,
                Detail::Number => 999,
            };
            SysError::from_code(c as u64, detail).unwrap()
        })
        .collect()
}

#[test]
fn every_error_round_trips_through_code_and_detail() {
    let errors = every_error();
    assert_eq!(errors.len(), ErrorCode::ALL.len());
    for e in errors {
        let code = e.kind().unwrap();
        assert_eq!(e.code(), code as u64);
        assert_eq!(e.name(), code.name());
        assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
        assert_eq!(decode_result(e.code(), e.detail()), Err(e));
        assert_eq!(encode_result(Err(e)), (e.code(), e.detail()));
        let names_arg = matches!(code.detail(), Detail::Arg | Detail::ArgRights);
        assert_eq!(e.arg(), names_arg.then_some(3), "{e}");
        assert_eq!(e, make_error(code, 3, MISSING, e.detail()), "{e}");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn details_name_the_argument_or_address() {
    let e = SysError::UnusedArgumentNotZero { arg: 5 };
    assert_eq!(encode_result(Err(e)), (2, 5));
    assert_eq!(e.arg(), Some(5));
    assert_eq!(
        e.to_string(),
        "argument 5 (r9): not used by this call but not zero"
    );
    let e = SysError::BadAddress { addr: 0x1000 };
    assert_eq!(encode_result(Err(e)), (16, 0x1000));
    assert_eq!(e.arg(), None);
    assert_eq!(
        encode_result(Err(SysError::UnknownSyscall { nr: 77 })),
        (1, 77)
    );
    assert_eq!(encode_result(Err(SysError::TimedOut)), (51, 0));
    for (e, word) in [
        (SysError::QuotaExceeded, (21, 0)),
        (SysError::SlotOccupied { arg: 1 }, (37, 1)),
        (SysError::BadgeAlreadySet { arg: 0 }, (38, 0)),
        (SysError::ObjectGone, (39, 0)),
        (SysError::NoPendingReply, (52, 0)),
        (SysError::CallerGone, (53, 0)),
        (SysError::NoSuchCpu, (54, 0)),
    ] {
        assert_eq!(encode_result(Err(e)), word, "{e}");
    }
    for (e, shown) in [
        (SysError::NoPendingReply, "no call to reply to"),
        (SysError::CallerGone, "the caller is gone"),
        (SysError::NoSuchCpu, "no such CPU"),
    ] {
        assert_eq!(e.to_string(), shown);
    }
    assert_eq!(
        SysError::SlotOccupied { arg: 1 }.to_string(),
        "argument 1 (rsi): slot already holds a capability"
    );
}

#[test]
fn missing_right_names_the_argument_and_exactly_the_rights() {
    let missing = Rights::EXECUTE | Rights::WAIT;
    let e = SysError::MissingRight { arg: 1, missing };
    assert_eq!(encode_result(Err(e)), (35, 1 | 0x104 << 8));
    assert_eq!(e.arg(), Some(1));
    assert_eq!(
        e.to_string(),
        "argument 1 (rsi): capability lacks rights --x--+wait"
    );
    // Every defined right fits in bits 8..40.
    for arg in 0..6 {
        let all = SysError::MissingRight {
            arg,
            missing: Rights::ALL,
        };
        assert_eq!(all.detail(), u64::from(arg) | 0x3ff << 8);
        assert_eq!(SysError::from_code(35, all.detail()), Some(all));
    }
    // A word with no rights is well-formed (the kernel never sends it).
    assert_eq!(
        SysError::from_code(35, 2),
        Some(SysError::MissingRight {
            arg: 2,
            missing: Rights::NONE
        })
    );
}

#[test]
fn from_code_refuses_success_unknown_codes_and_bad_indices() {
    assert_eq!(SysError::from_code(0, 0), None);
    for unknown in [13, 15, 22, 31, 40, 47, 55, 63, 67, 80, u64::MAX] {
        assert_eq!(SysError::from_code(unknown, 0), None, "{unknown}");
    }
    for c in ErrorCode::ALL
        .iter()
        .filter(|c| matches!(c.detail(), Detail::Arg | Detail::ArgRights))
    {
        for arg in [6, 7, 0xff] {
            assert_eq!(SysError::from_code(*c as u64, arg), None, "{c} {arg}");
        }
        assert!(SysError::from_code(*c as u64, 5).is_some(), "{c}");
    }
    // Bits above the index are reserved and ignored.
    assert_eq!(
        SysError::from_code(ErrorCode::EmptySlot as u64, 0x100 | 4),
        Some(SysError::EmptySlot { arg: 4 })
    );
    assert_eq!(
        SysError::from_code(ErrorCode::SlotOccupied as u64, 1 << 63 | 1),
        Some(SysError::SlotOccupied { arg: 1 })
    );
    // A detail on an error without one is ignored.
    for c in [
        ErrorCode::OutOfMemory,
        ErrorCode::QuotaExceeded,
        ErrorCode::ObjectGone,
        ErrorCode::NoPendingReply,
        ErrorCode::CallerGone,
        ErrorCode::NoSuchCpu,
    ] {
        let e = SysError::from_code(c as u64, 42).unwrap();
        assert_eq!((e.kind(), e.detail()), (Some(c), 0));
    }
}

#[test]
fn missing_right_with_unknown_rights_is_unrecognized() {
    // Undefined rights bits (the first after control, the last of the
    // field) and bits above the field make a word this version does not
    // know; the raw words are kept.
    let first_undefined = u64::from(Rights::ALL.bits()) + 1;
    for detail in [
        1 | first_undefined << 8,
        1 | 1 << 39,
        1 | 1 << 40,
        1 | 1 << 63,
        0x3ff << 8 | 1 << 40,
    ] {
        assert_eq!(SysError::from_code(35, detail), None, "{detail:#x}");
        let Err(SysError::Unrecognized(u)) = decode_result(35, detail) else {
            panic!("expected Unrecognized for {detail:#x}");
        };
        assert_eq!((u.code(), u.detail()), (35, detail));
    }
}

#[test]
fn results_round_trip_and_unknown_words_are_kept() {
    for v in [0, 1, u64::MAX] {
        assert_eq!(encode_result(Ok(v)), (0, v));
        assert_eq!(decode_result(0, v), Ok(v));
    }
    let Err(SysError::Unrecognized(u)) = decode_result(4000, 9) else {
        panic!("expected Unrecognized");
    };
    assert_eq!((u.code(), u.detail()), (4000, 9));
    let e = SysError::Unrecognized(u);
    assert_eq!(e.kind(), None);
    assert_eq!(e.arg(), None);
    assert_eq!(e.name(), "Unrecognized");
    assert_eq!(encode_result(Err(e)), (4000, 9));
    assert_eq!(e.to_string(), "unrecognized error code 4000 (detail 0x9)");
}
