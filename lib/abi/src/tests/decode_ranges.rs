//! Decode checks of user addresses and ranges: byte ranges, grants, page
//! ranges, page counts and `frame_map` addresses.

use super::*;

/// The sample's registers with every byte range empty, so only pointers
/// count.
fn with_empty_ranges(s: &Sample) -> [u64; 6] {
    let mut args = s.regs;
    for (i, kind) in s.args.iter().enumerate() {
        if matches!(kind, Kind::Bytes(_) | Kind::Grants) {
            args[i] = 0;
        }
    }
    args
}

/// Every user address that is not a page address.
#[test]
fn pointers_must_be_canonical_user_addresses() {
    for (s, i, _) in args_where(|k| k == Kind::Ptr) {
        let nr = s.nr();
        let at = |p: u64| {
            let mut args = with_empty_ranges(s);
            args[i] = p;
            decode(nr, args)
        };
        let arg = i as u8;
        assert_eq!(at(USER_END), Err(SysError::NonCanonicalPointer { arg }));
        assert_eq!(
            at(0x1234_0000_0000_0000),
            Err(SysError::NonCanonicalPointer { arg })
        );
        assert_eq!(
            at(0xffff_7fff_ffff_ffff),
            Err(SysError::NonCanonicalPointer { arg })
        );
        assert_eq!(
            at(0xffff_8000_0000_0000),
            Err(SysError::KernelPointer { arg })
        );
        assert_eq!(at(u64::MAX), Err(SysError::KernelPointer { arg }));
        // The null page, the last user byte and unaligned addresses are
        // the caller's business.
        assert!(at(0).is_ok(), "{nr} {i}");
        assert!(at(1).is_ok(), "{nr} {i}");
        assert!(at(USER_END - 1).is_ok(), "{nr} {i}");
    }
}

/// Every byte length, with its pointer in the register before.
#[test]
fn byte_lengths_checked_against_limit_wrap_and_user_end() {
    for (s, len, kind) in args_where(|k| matches!(k, Kind::Bytes(_))) {
        let Kind::Bytes(max) = kind else {
            unreachable!()
        };
        let ptr = len - 1;
        assert_eq!(s.args[ptr], Kind::Ptr, "{}", s.call);
        let with = |p: u64, n: u64| {
            let mut args = with_empty_ranges(s);
            args[ptr] = p;
            args[len] = n;
            decode(s.nr(), args)
        };
        let arg = len as u8;
        assert!(with(0x1000, 0).is_ok());
        assert!(with(0x1000, max).is_ok());
        assert_eq!(with(0x1000, max + 1), Err(SysError::LengthTooLarge { arg }));
        assert_eq!(with(0x1000, u64::MAX), Err(SysError::LengthWraps { arg }));
        assert_eq!(
            with(USER_END - 1, 2),
            Err(SysError::RangeOutsideUser { arg })
        );
        assert!(with(USER_END - max, max).is_ok());
        assert_eq!(
            with(USER_END - max + 1, max),
            Err(SysError::RangeOutsideUser { arg })
        );
    }
}

/// Decode checks a trace or metrics buffer like any byte range; whether
/// it has room for something is the kernel's: `trace_read` refuses one
/// without room for a record (`ZeroLength` on argument 4), `metrics_read`
/// writes `len / 8` words or fewer. Neither length needs alignment.
#[test]
fn traces_take_any_length_up_to_the_limit() {
    let one_record = TRACE_READ_HEADER + TRACE_RECORD;
    for len in [
        0,
        1,
        TRACE_READ_HEADER,
        one_record - 1,
        one_record,
        one_record + 1,
        MAX_TRACE_READ - 1,
        MAX_TRACE_READ,
    ] {
        let read = [7, 0, 0, 0x1001, len, 0];
        assert_eq!(
            decode(Sysno::TraceRead, read).map(|c| c.encode()),
            Ok((35, read)),
            "{len}"
        );
        let metrics = [7, 0x1001, len, 0, 0, 0];
        assert_eq!(
            decode(Sysno::MetricsRead, metrics).map(|c| c.encode()),
            Ok((36, metrics)),
            "{len}"
        );
    }
    // A buffer that ends at the last user byte.
    let last = USER_END - MAX_TRACE_READ;
    assert!(decode(Sysno::TraceRead, [7, 0, 0, last, MAX_TRACE_READ, 0]).is_ok());
    assert_eq!(
        decode(Sysno::TraceRead, [7, 0, 0, last + 1, MAX_TRACE_READ, 0]),
        Err(SysError::RangeOutsideUser { arg: 4 })
    );
    assert!(decode(Sysno::MetricsRead, [7, last, MAX_TRACE_READ, 0, 0, 0]).is_ok());
    assert_eq!(
        decode(Sysno::MetricsRead, [7, last + 8, MAX_TRACE_READ, 0, 0, 0]),
        Err(SysError::RangeOutsideUser { arg: 2 })
    );
}

#[test]
fn grant_counts_are_checked_as_their_byte_range() {
    let with =
        |grants: u64, count: u64| decode(Sysno::ProcessSpawn, [16, 3, 0x1000, 0, grants, count]);
    let too_many = Err(SysError::LengthTooLarge { arg: 5 });
    let outside = Err(SysError::RangeOutsideUser { arg: 5 });
    assert!(with(0x1000, 0).is_ok());
    assert!(with(0x1000, 1).is_ok());
    assert!(with(0x1000, MAX_GRANTS).is_ok());
    assert_eq!(with(0x1000, MAX_GRANTS + 1), too_many);
    // Counts whose byte size would wrap are refused as counts.
    assert_eq!(with(0x1000, 1 << 61), too_many);
    assert_eq!(with(0x1000, u64::MAX), too_many);
    assert_eq!(with(USER_END - 1, u64::MAX), too_many);
    // The range is count * GRANT_SIZE bytes, and ends at or below USER_END.
    let last = USER_END - MAX_GRANTS * GRANT_SIZE;
    assert!(with(last, MAX_GRANTS).is_ok());
    assert_eq!(with(last + 1, MAX_GRANTS), outside);
    assert!(with(USER_END - GRANT_SIZE, 1).is_ok());
    assert_eq!(with(USER_END - GRANT_SIZE + 1, 1), outside);
    assert_eq!(with(USER_END - GRANT_SIZE, 2), outside);
    // Grants need no alignment.
    assert!(with(0x1001, 3).is_ok());
    // With no grants the pointer is still checked, but the range is empty.
    assert!(with(0, 0).is_ok());
    assert!(with(USER_END - 1, 0).is_ok());
    assert_eq!(
        with(USER_END, 0),
        Err(SysError::NonCanonicalPointer { arg: 4 })
    );
    assert_eq!(
        with(0xffff_8000_0000_0000, 0),
        Err(SysError::KernelPointer { arg: 4 })
    );
}

/// The `mem_*` calls: every page range, with its address in the register
/// before its length.
#[test]
fn mem_ranges_are_whole_user_pages() {
    let page = PAGE_SIZE;
    for (s, len, _) in args_where(|k| k == Kind::PageLen) {
        let addr = len - 1;
        assert_eq!(s.args[addr], Kind::PagePtr, "{}", s.call);
        let with = |a: u64, n: u64| {
            let mut args = s.regs;
            args[addr] = a;
            args[len] = n;
            decode(s.nr(), args)
        };
        let (a, l) = (addr as u8, len as u8);
        assert!(with(page, page).is_ok());
        assert!(with(0, USER_MAP_END).is_ok());
        assert!(with(USER_MAP_END - page, page).is_ok());
        // The top user page is never mapped.
        assert_eq!(
            with(USER_MAP_END, page),
            Err(SysError::RangeOutsideUser { arg: l })
        );
        assert_eq!(
            with(0, USER_END),
            Err(SysError::RangeOutsideUser { arg: l })
        );
        assert_eq!(with(page + 1, page), Err(SysError::Misaligned { arg: a }));
        assert_eq!(with(page, page + 1), Err(SysError::Misaligned { arg: l }));
        assert_eq!(with(page, 0), Err(SysError::ZeroLength { arg: l }));
        assert_eq!(
            with(page, u64::MAX - page + 1),
            Err(SysError::LengthWraps { arg: l })
        );
        assert_eq!(
            with(USER_MAP_END - page, 2 * page),
            Err(SysError::RangeOutsideUser { arg: l })
        );
        assert_eq!(
            with(0, USER_END + page),
            Err(SysError::RangeOutsideUser { arg: l })
        );
        assert_eq!(
            with(USER_END, page),
            Err(SysError::NonCanonicalPointer { arg: a })
        );
        assert_eq!(
            with(0xffff_8000_0000_0000, page),
            Err(SysError::KernelPointer { arg: a })
        );
    }
}

/// `memory_split` and `frame_create` sizes: whole pages, at least one.
/// Decode sets no upper limit: the budget is the kernel's to check, and so
/// is the largest frame (16 MiB today, `LengthTooLarge` on argument 1).
#[test]
fn memory_split_and_frame_create_take_whole_pages() {
    for (s, i, _) in args_where(|k| k == Kind::Pages) {
        let nr = s.nr();
        for ok in [
            PAGE_SIZE,
            2 * PAGE_SIZE,
            16 << 20,
            (16 << 20) + PAGE_SIZE,
            USER_END,
            u64::MAX - (PAGE_SIZE - 1),
        ] {
            s.takes(i, ok);
        }
        let arg = i as u8;
        assert_eq!(
            s.decode_with(i, 0),
            Err(SysError::ZeroLength { arg }),
            "{nr}"
        );
        for bad in [1, PAGE_SIZE - 1, PAGE_SIZE + 1, 1 << 63 | 1, u64::MAX] {
            assert_eq!(
                s.decode_with(i, bad),
                Err(SysError::Misaligned { arg }),
                "{nr} {bad:#x}"
            );
        }
    }
}

/// `frame_map`'s address (a page address with no length after it) is
/// checked like a `mem_*` address (canonical, user, page-aligned); it has
/// no length, so whether the frame fits below `USER_MAP_END`
/// (`RangeOutsideUser` on argument 2) and address 0 (`AddressSpaceFull`:
/// the kernel never picks one for a frame) are the kernel's to refuse.
#[test]
fn frame_map_addresses_are_user_pages() {
    let lone = args_where(|k| k == Kind::PagePtr)
        .filter(|&(s, i, _)| s.args.get(i + 1) != Some(&Kind::PageLen));
    for (s, i, _) in lone {
        let arg = i as u8;
        for ok in [
            0,
            PAGE_SIZE,
            0x7000_0000,
            USER_MAP_END - PAGE_SIZE,
            USER_MAP_END,
        ] {
            s.takes(i, ok);
        }
        for bad in [1, PAGE_SIZE - 1, PAGE_SIZE + 8, USER_END - 1] {
            assert_eq!(
                s.decode_with(i, bad),
                Err(SysError::Misaligned { arg }),
                "{bad:#x}"
            );
        }
        for bad in [USER_END, 0x1234_0000_0000_0000, 0xffff_7fff_ffff_f000] {
            assert_eq!(
                s.decode_with(i, bad),
                Err(SysError::NonCanonicalPointer { arg }),
                "{bad:#x}"
            );
        }
        for bad in [0xffff_8000_0000_0000, u64::MAX - (PAGE_SIZE - 1)] {
            assert_eq!(
                s.decode_with(i, bad),
                Err(SysError::KernelPointer { arg }),
                "{bad:#x}"
            );
        }
    }
}
