//! Unit tests for every call, every decode check and the result words; then
//! property tests for round trips and canonical form; then the check that
//! docs/ABI.md lists what the crate defines.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

const H: Handle = Handle(7);
const BUF: UserPtr = UserPtr::new(0x40_0000);

/// One of each call, with ordinary arguments.
fn samples() -> Vec<Syscall> {
    vec![
        Syscall::AbiVersion,
        Syscall::DebugWrite {
            console: initial::CONSOLE,
            buf: BUF,
            len: 12,
        },
        Syscall::ProcessExit { code: 3 },
        Syscall::ProcessSpawn {
            module: initial::FIRST_MODULE,
            args: BUF,
            args_len: 100,
        },
        Syscall::ProcessWait {
            child: H,
            timeout_ns: WAIT_FOREVER,
        },
        Syscall::ThreadYield,
        Syscall::ThreadSleep { ns: 1_000_000 },
        Syscall::ClockMonotonic,
        Syscall::MemMap {
            space: initial::SELF_SPACE,
            addr: UserPtr::NULL,
            len: 2 * PAGE_SIZE,
            perms: Perms::READ_WRITE,
        },
        Syscall::MemUnmap {
            space: initial::SELF_SPACE,
            addr: BUF,
            len: PAGE_SIZE,
        },
        Syscall::MemProtect {
            space: initial::SELF_SPACE,
            addr: BUF,
            len: PAGE_SIZE,
            perms: Perms::READ_EXECUTE,
        },
        Syscall::HandleClose { handle: H },
    ]
}

fn decode(nr: Sysno, args: [u64; 6]) -> Result<Syscall, SysError> {
    Syscall::decode(nr as u64, args)
}

// ---- Numbers ----

#[test]
fn sysno_numbers_unique_nonzero_and_from_raw_inverts() {
    let numbers: BTreeSet<u64> = Sysno::ALL.iter().map(|&s| s as u64).collect();
    assert_eq!(numbers.len(), Sysno::ALL.len());
    assert!(!numbers.contains(&0), "0 is never assigned");
    for &s in Sysno::ALL {
        assert_eq!(Sysno::from_raw(s as u64), Some(s));
    }
    let names: BTreeSet<&str> = Sysno::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), Sysno::ALL.len());
    for n in [0, 13, 64, u64::MAX] {
        assert_eq!(Sysno::from_raw(n), None);
    }
}

/// Changing a published number breaks every compiled program.
#[test]
fn sysno_numbers_are_stable() {
    let expect = [
        (1, "abi_version", 0),
        (2, "debug_write", 3),
        (3, "process_exit", 1),
        (4, "process_spawn", 3),
        (5, "process_wait", 2),
        (6, "thread_yield", 0),
        (7, "thread_sleep", 1),
        (8, "clock_monotonic", 0),
        (9, "mem_map", 4),
        (10, "mem_unmap", 3),
        (11, "mem_protect", 4),
        (12, "handle_close", 1),
    ];
    let got: Vec<(u64, &str, usize)> = Sysno::ALL
        .iter()
        .map(|&s| (s as u64, s.name(), s.arg_count()))
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn error_codes_unique_stable_and_grouped() {
    let codes: BTreeSet<u64> = ErrorCode::ALL.iter().map(|&c| c as u64).collect();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    assert!(!codes.contains(&0), "0 means success");
    for &c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_raw(c as u64), Some(c));
        assert_eq!(c.is_decode_error(), (c as u64) < 16, "{c}");
    }
    assert_eq!(ErrorCode::UnknownSyscall as u64, 1);
    assert_eq!(ErrorCode::BadAddress as u64, 16);
    assert_eq!(ErrorCode::EmptySlot as u64, 32);
    assert_eq!(ErrorCode::TimedOut as u64, 51);
}

#[test]
fn user_end_matches_the_page_tables() {
    assert_eq!(USER_END, ferrous_paging::USER_END);
}

// ---- Round trips of the sample calls ----

#[test]
fn every_call_round_trips() {
    let samples = samples();
    let covered: BTreeSet<Sysno> = samples.iter().map(Syscall::sysno).collect();
    assert_eq!(covered.len(), Sysno::ALL.len(), "a sample per call");
    for call in samples {
        let (nr, args) = call.encode();
        assert_eq!(nr, call.sysno() as u64);
        assert!(args[call.sysno().arg_count()..].iter().all(|&a| a == 0));
        assert_eq!(Syscall::decode(nr, args), Ok(call), "{call}");
    }
}

#[test]
fn encode_puts_arguments_in_register_order() {
    let call = Syscall::MemMap {
        space: Handle(2),
        addr: UserPtr::new(0x1000),
        len: 0x3000,
        perms: Perms::READ_WRITE,
    };
    assert_eq!(call.encode(), (9, [2, 0x1000, 0x3000, 3, 0, 0]));
    assert_eq!(
        Syscall::ProcessExit { code: u32::MAX }.encode(),
        (3, [0xffff_ffff, 0, 0, 0, 0, 0])
    );
}

#[test]
fn display_for_traces() {
    let call = Syscall::MemMap {
        space: initial::SELF_SPACE,
        addr: UserPtr::NULL,
        len: 0x2000,
        perms: Perms::READ_WRITE,
    };
    assert_eq!(
        call.to_string(),
        "mem_map(space=h2, addr=0x0, len=0x2000, perms=rw-)"
    );
    assert_eq!(Syscall::ThreadYield.to_string(), "thread_yield()");
    assert_eq!(
        SysError::LengthTooLarge { arg: 2 }.to_string(),
        "argument 2 (rdx): length exceeds this call's limit"
    );
}

// ---- Decode errors ----

#[test]
fn unknown_number_carries_it() {
    for nr in [0, 13, 0x8000_0000_0000_0001, u64::MAX] {
        assert_eq!(
            Syscall::decode(nr, [0; 6]),
            Err(SysError::UnknownSyscall { nr })
        );
    }
}

#[test]
fn unused_arguments_must_be_zero() {
    for call in samples() {
        let (nr, args) = call.encode();
        for i in call.sysno().arg_count()..6 {
            let mut bad = args;
            bad[i] = 1;
            assert_eq!(
                Syscall::decode(nr, bad),
                Err(SysError::UnusedArgumentNotZero { arg: i as u8 }),
                "{call} register {i}"
            );
        }
    }
}

#[test]
fn first_failing_argument_wins() {
    // Both the handle (arg 0) and an unused register are bad: arg 0 first.
    assert_eq!(
        decode(Sysno::HandleClose, [1 << 32, 0, 0, 0, 0, 9]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    // Bad pointer (1) and bad length (2): the pointer.
    assert_eq!(
        decode(Sysno::DebugWrite, [1, u64::MAX, u64::MAX, 0, 0, 0]),
        Err(SysError::KernelPointer { arg: 1 })
    );
}

#[test]
fn handles_and_exit_codes_are_32_bits() {
    for (nr, arg) in [
        (Sysno::DebugWrite, 0),
        (Sysno::ProcessSpawn, 0),
        (Sysno::ProcessWait, 0),
        (Sysno::MemMap, 0),
        (Sysno::MemUnmap, 0),
        (Sysno::MemProtect, 0),
        (Sysno::HandleClose, 0),
        (Sysno::ProcessExit, 0),
    ] {
        let call = samples().into_iter().find(|c| c.sysno() == nr).unwrap();
        let (_, mut args) = call.encode();
        args[arg] |= 1 << 32;
        assert_eq!(
            decode(nr, args),
            Err(SysError::ReservedBitsSet { arg: arg as u8 }),
            "{nr}"
        );
    }
    assert_eq!(
        decode(Sysno::HandleClose, [u64::from(u32::MAX), 0, 0, 0, 0, 0]),
        Ok(Syscall::HandleClose {
            handle: Handle(u32::MAX)
        })
    );
}

#[test]
fn pointers_must_be_canonical_user_addresses() {
    for nr in [Sysno::DebugWrite, Sysno::ProcessSpawn] {
        let at = |p: u64| decode(nr, [1, p, 0, 0, 0, 0]);
        assert_eq!(at(USER_END), Err(SysError::NonCanonicalPointer { arg: 1 }));
        assert_eq!(
            at(0x1234_0000_0000_0000),
            Err(SysError::NonCanonicalPointer { arg: 1 })
        );
        assert_eq!(
            at(0xffff_7fff_ffff_ffff),
            Err(SysError::NonCanonicalPointer { arg: 1 })
        );
        assert_eq!(
            at(0xffff_8000_0000_0000),
            Err(SysError::KernelPointer { arg: 1 })
        );
        assert_eq!(at(u64::MAX), Err(SysError::KernelPointer { arg: 1 }));
        // The null page and the last user byte are the caller's business.
        assert!(at(0).is_ok());
        assert!(at(USER_END - 1).is_ok());
    }
}

#[test]
fn byte_lengths_checked_against_limit_wrap_and_user_end() {
    for (nr, max) in [
        (Sysno::DebugWrite, MAX_DEBUG_WRITE),
        (Sysno::ProcessSpawn, MAX_SPAWN_ARGS),
    ] {
        let with = |p: u64, len: u64| decode(nr, [1, p, len, 0, 0, 0]);
        assert!(with(0x1000, 0).is_ok());
        assert!(with(0x1000, max).is_ok());
        assert_eq!(
            with(0x1000, max + 1),
            Err(SysError::LengthTooLarge { arg: 2 })
        );
        assert_eq!(
            with(0x1000, u64::MAX),
            Err(SysError::LengthWraps { arg: 2 })
        );
        assert_eq!(
            with(USER_END - 1, 2),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert!(with(USER_END - max, max).is_ok());
    }
}

#[test]
fn mem_ranges_are_whole_user_pages() {
    let page = PAGE_SIZE;
    for nr in [Sysno::MemMap, Sysno::MemUnmap, Sysno::MemProtect] {
        let perms = if nr == Sysno::MemUnmap { 0 } else { 1 };
        let with = |addr: u64, len: u64| decode(nr, [2, addr, len, perms, 0, 0]);
        assert!(with(page, page).is_ok());
        assert!(with(0, USER_MAP_END).is_ok());
        assert!(with(USER_MAP_END - page, page).is_ok());
        // The top user page is never mapped.
        assert_eq!(
            with(USER_MAP_END, page),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(
            with(0, USER_END),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(with(page + 1, page), Err(SysError::Misaligned { arg: 1 }));
        assert_eq!(with(page, page + 1), Err(SysError::Misaligned { arg: 2 }));
        assert_eq!(with(page, 0), Err(SysError::ZeroLength { arg: 2 }));
        assert_eq!(
            with(page, u64::MAX - page + 1),
            Err(SysError::LengthWraps { arg: 2 })
        );
        assert_eq!(
            with(USER_MAP_END - page, 2 * page),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(
            with(0, USER_END + page),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(
            with(USER_END, page),
            Err(SysError::NonCanonicalPointer { arg: 1 })
        );
        assert_eq!(
            with(0xffff_8000_0000_0000, page),
            Err(SysError::KernelPointer { arg: 1 })
        );
    }
}

#[test]
fn perms_are_w_xor_x_and_readable() {
    for nr in [Sysno::MemMap, Sysno::MemProtect] {
        let with = |perms: u64| decode(nr, [2, 0x1000, 0x1000, perms, 0, 0]);
        for ok in [Perms::READ, Perms::READ_WRITE, Perms::READ_EXECUTE] {
            assert!(with(ok.bits()).is_ok(), "{ok}");
        }
        for wx in [Perms::WRITE | Perms::EXECUTE, Perms::ALL] {
            assert_eq!(
                with(wx.bits()),
                Err(SysError::WriteAndExecute { arg: 3 }),
                "{wx}"
            );
        }
        for unreadable in [Perms::NONE, Perms::WRITE, Perms::EXECUTE] {
            assert_eq!(
                with(unreadable.bits()),
                Err(SysError::PermsWithoutRead { arg: 3 }),
                "{unreadable}"
            );
        }
        for reserved in [8, 1 << 8, 1 << 63] {
            assert_eq!(
                with(1 | reserved),
                Err(SysError::ReservedBitsSet { arg: 3 })
            );
        }
    }
}

#[test]
fn plain_values_take_any_bits() {
    for v in [0, 1, u64::MAX] {
        assert_eq!(
            decode(Sysno::ThreadSleep, [v, 0, 0, 0, 0, 0]),
            Ok(Syscall::ThreadSleep { ns: v })
        );
        assert_eq!(
            decode(Sysno::ProcessWait, [5, v, 0, 0, 0, 0]),
            Ok(Syscall::ProcessWait {
                child: Handle(5),
                timeout_ns: v
            })
        );
    }
}

// ---- Errors and results ----

/// One error of each code, with a non-trivial detail where it has one.
fn every_error() -> Vec<SysError> {
    ErrorCode::ALL
        .iter()
        .map(|&c| {
            let detail = match c.detail() {
                Detail::None => 0,
                Detail::Arg => 3,
                Detail::Addr => 0x7fff_1000,
                Detail::Number => 999,
            };
            SysError::from_code(c as u64, detail).unwrap()
        })
        .collect()
}

#[test]
fn every_error_round_trips_through_code_and_detail() {
    for e in every_error() {
        let code = e.kind().unwrap();
        assert_eq!(e.code(), code as u64);
        assert_eq!(e.name(), code.name());
        assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
        assert_eq!(decode_result(e.code(), e.detail()), Err(e));
        assert_eq!(encode_result(Err(e)), (e.code(), e.detail()));
        assert_eq!(e.arg().is_some(), code.detail() == Detail::Arg, "{e}");
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
}

#[test]
fn from_code_refuses_success_unknown_codes_and_bad_indices() {
    assert_eq!(SysError::from_code(0, 0), None);
    assert_eq!(SysError::from_code(13, 0), None);
    assert_eq!(SysError::from_code(u64::MAX, 0), None);
    assert_eq!(SysError::from_code(ErrorCode::EmptySlot as u64, 6), None);
    // Bits above the index are reserved and ignored.
    assert_eq!(
        SysError::from_code(ErrorCode::EmptySlot as u64, 0x100 | 4),
        Some(SysError::EmptySlot { arg: 4 })
    );
    // A detail on an error without one is ignored.
    assert_eq!(
        SysError::from_code(ErrorCode::OutOfMemory as u64, 42),
        Some(SysError::OutOfMemory)
    );
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
    assert_eq!(e.name(), "Unrecognized");
    assert_eq!(encode_result(Err(e)), (4000, 9));
    assert_eq!(e.to_string(), "unrecognized error code 4000 (detail 0x9)");
}

#[test]
fn exit_status_words() {
    let exited = ExitStatus::Exited { code: u32::MAX };
    assert_eq!(exited.to_raw(), 0xffff_ffff);
    let faulted = ExitStatus::Faulted { vector: 14 };
    assert_eq!(faulted.to_raw(), 1 << 32 | 14);
    for s in [exited, faulted, ExitStatus::Exited { code: 0 }] {
        assert_eq!(ExitStatus::from_raw(s.to_raw()), Some(s));
    }
    assert_eq!(ExitStatus::from_raw(1 << 32 | 256), None);
    assert_eq!(ExitStatus::from_raw(2 << 32), None);
    assert_eq!(ExitStatus::from_raw(u64::MAX), None);
}

#[test]
fn perms_bits_and_display() {
    assert_eq!(Perms::from_bits(7), Some(Perms::ALL));
    assert_eq!(Perms::from_bits(8), None);
    assert_eq!(Perms::READ | Perms::EXECUTE, Perms::READ_EXECUTE);
    assert_eq!(Perms::ALL.to_string(), "rwx");
    assert_eq!(Perms::NONE.to_string(), "---");
    assert!(Perms::READ_WRITE.contains(Perms::WRITE));
    assert!(!Perms::READ_WRITE.contains(Perms::EXECUTE));
}

#[test]
fn user_ptr_is_only_an_address() {
    let x = 5u32;
    let p = UserPtr::from_ptr(&x);
    assert_eq!(p.addr(), &x as *const u32 as u64);
    assert_eq!(UserPtr::new(0x1000).to_string(), "0x1000");
    assert_eq!(Handle::NULL, Handle(0));
}

// ---- docs/ABI.md ----

const ABI_MD: &str = include_str!("../../../docs/ABI.md");

/// `(first cell, second cell)` of every table row under the `## heading`
/// whose first cell is a number, backticks stripped.
fn table(heading: &str) -> BTreeSet<(String, String)> {
    let start = ABI_MD
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `## {heading}`"));
    let section = &ABI_MD[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 3 && cells[0].is_empty()).then(|| {
                (
                    cells[1].trim_matches('`').to_string(),
                    cells[2].trim_matches('`').to_string(),
                )
            })
        })
        .filter(|(first, _)| first.parse::<u64>().is_ok())
        .collect()
}

#[test]
fn docs_list_exactly_the_system_calls() {
    let crate_calls: BTreeSet<(String, String)> = Sysno::ALL
        .iter()
        .map(|&s| ((s as u64).to_string(), s.name().to_string()))
        .collect();
    assert_eq!(table("System calls"), crate_calls);
}

#[test]
fn docs_list_exactly_the_error_codes() {
    let crate_codes: BTreeSet<(String, String)> = ErrorCode::ALL
        .iter()
        .map(|&c| ((c as u64).to_string(), c.name().to_string()))
        .collect();
    assert_eq!(table("Error codes"), crate_codes);
}

#[test]
fn docs_state_the_constants() {
    for (name, value) in [
        ("ABI_VERSION", u64::from(ABI_VERSION)),
        ("PAGE_SIZE", PAGE_SIZE),
        ("MAX_DEBUG_WRITE", MAX_DEBUG_WRITE),
        ("MAX_SPAWN_ARGS", MAX_SPAWN_ARGS),
        ("CONSOLE", u64::from(initial::CONSOLE.0)),
        ("SELF_SPACE", u64::from(initial::SELF_SPACE.0)),
        ("FIRST_MODULE", u64::from(initial::FIRST_MODULE.0)),
    ] {
        let row = format!("| `{name}` | {value} |");
        assert!(ABI_MD.contains(&row), "docs/ABI.md lacks `{row}`");
    }
    assert!(ABI_MD.contains("| `USER_END` | `0x0000_8000_0000_0000` |"));
    assert!(ABI_MD.contains("| `USER_MAP_END` | `0x0000_7fff_ffff_f000` |"));
    assert_eq!(USER_MAP_END, 0x0000_7fff_ffff_f000);
}

// ---- Property tests ----

fn handle() -> impl Strategy<Value = Handle> {
    prop_oneof![0..32u32, any::<u32>()].prop_map(Handle)
}

/// A valid `(start, len)` byte range below USER_END with len <= max.
fn byte_range(max: u64) -> impl Strategy<Value = (UserPtr, u64)> {
    (0..USER_END, 0..=max).prop_map(|(p, len)| (UserPtr::new(p.min(USER_END - len)), len))
}

/// A valid page range: start may be 0 (anywhere, for mem_map).
fn page_range() -> impl Strategy<Value = (UserPtr, u64)> {
    let pages = USER_MAP_END / PAGE_SIZE;
    (0..pages, 1..=pages).prop_map(move |(start, n)| {
        let start = start.min(pages - n);
        (UserPtr::new(start * PAGE_SIZE), n * PAGE_SIZE)
    })
}

fn perms() -> impl Strategy<Value = Perms> {
    prop_oneof![
        Just(Perms::READ),
        Just(Perms::READ_WRITE),
        Just(Perms::READ_EXECUTE)
    ]
}

fn valid_call() -> impl Strategy<Value = Syscall> {
    prop_oneof![
        Just(Syscall::AbiVersion),
        (handle(), byte_range(MAX_DEBUG_WRITE))
            .prop_map(|(console, (buf, len))| { Syscall::DebugWrite { console, buf, len } }),
        any::<u32>().prop_map(|code| Syscall::ProcessExit { code }),
        (handle(), byte_range(MAX_SPAWN_ARGS)).prop_map(|(module, (args, args_len))| {
            Syscall::ProcessSpawn {
                module,
                args,
                args_len,
            }
        }),
        (handle(), any::<u64>())
            .prop_map(|(child, timeout_ns)| Syscall::ProcessWait { child, timeout_ns }),
        Just(Syscall::ThreadYield),
        any::<u64>().prop_map(|ns| Syscall::ThreadSleep { ns }),
        Just(Syscall::ClockMonotonic),
        (handle(), page_range(), perms()).prop_map(|(space, (addr, len), perms)| {
            Syscall::MemMap {
                space,
                addr,
                len,
                perms,
            }
        }),
        (handle(), page_range()).prop_map(|(space, (addr, len))| Syscall::MemUnmap {
            space,
            addr,
            len
        }),
        (handle(), page_range(), perms()).prop_map(|(space, (addr, len), perms)| {
            Syscall::MemProtect {
                space,
                addr,
                len,
                perms,
            }
        }),
        handle().prop_map(|handle| Syscall::HandleClose { handle }),
    ]
}

/// Register values that hit the checks' edges often: zero, small numbers,
/// page multiples, values around USER_END and the canonical boundary.
fn raw_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(0u64),
        2 => 0..16u64,
        2 => (0..64u64).prop_map(|p| p * PAGE_SIZE),
        1 => (0..USER_END / PAGE_SIZE).prop_map(|p| p * PAGE_SIZE),
        1 => 0..=2 * MAX_DEBUG_WRITE,
        1 => (USER_END - 2 * PAGE_SIZE)..(USER_END + 2 * PAGE_SIZE),
        1 => 0xffff_7fff_ffff_f000..=0xffff_8000_0000_1000u64,
        1 => Just(u64::MAX),
        2 => any::<u64>(),
    ]
}

/// Mostly with the registers after a random prefix zero, as in real calls,
/// so that decode gets past the unused-register check often.
fn raw_args() -> impl Strategy<Value = [u64; 6]> {
    (proptest::array::uniform6(raw_word()), 0..=6usize, 0..4u8).prop_map(
        |(mut args, used, keep)| {
            if keep != 0 {
                args[used..].fill(0);
            }
            args
        },
    )
}

fn raw_nr() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0..16u64, 1 => any::<u64>()]
}

/// `(rax, args)`: random registers, or a valid call with one register
/// replaced, which probes each check right next to calls that pass.
fn raw_call() -> impl Strategy<Value = (u64, [u64; 6])> {
    prop_oneof![
        (raw_nr(), raw_args()),
        (valid_call(), 0..6usize, raw_word()).prop_map(|(call, i, word)| {
            let (nr, mut args) = call.encode();
            args[i] = word;
            (nr, args)
        }),
    ]
}

proptest! {
    // Every case is a few hundred nanoseconds; search wider than the default.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn valid_calls_round_trip(call in valid_call()) {
        let (nr, args) = call.encode();
        prop_assert_eq!(Syscall::decode(nr, args), Ok(call));
    }

    #[test]
    fn decode_is_total_and_accepted_input_is_canonical((nr, args) in raw_call()) {
        match Syscall::decode(nr, args) {
            Ok(call) => prop_assert_eq!(call.encode(), (nr, args)),
            Err(e) => {
                // Decode never consults kernel state, so only decode errors.
                prop_assert!(e.kind().unwrap().is_decode_error(), "{}", e);
                if let Some(arg) = e.arg() {
                    prop_assert!((arg as usize) < 6);
                }
                prop_assert_eq!(decode_result(e.code(), e.detail()), Err(e));
            }
        }
    }

    #[test]
    fn from_code_is_total(code in prop_oneof![0..64u64, any::<u64>()], detail in any::<u64>()) {
        if let Some(e) = SysError::from_code(code, detail) {
            prop_assert_eq!(e.code(), code);
            prop_assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
            let _ = e.to_string();
        }
        let decoded = decode_result(code, detail);
        if code == 0 {
            prop_assert_eq!(decoded, Ok(detail));
        } else {
            let e = decoded.unwrap_err();
            prop_assert_eq!(decode_result(e.code(), e.detail()), Err(e));
            let _ = e.to_string();
        }
    }

    #[test]
    fn results_round_trip(value in any::<u64>(), code in 0..64u64, detail in any::<u64>()) {
        prop_assert_eq!(decode_result(0, value), Ok(value));
        if let Some(e) = SysError::from_code(code, detail) {
            prop_assert_eq!(decode_result(encode_result(Err(e)).0, encode_result(Err(e)).1), Err(e));
        }
    }

    #[test]
    fn exit_status_from_raw_is_total(raw in any::<u64>(), code in any::<u32>(), vector in any::<u8>()) {
        if let Some(s) = ExitStatus::from_raw(raw) {
            prop_assert_eq!(s.to_raw(), raw);
        }
        for s in [ExitStatus::Exited { code }, ExitStatus::Faulted { vector }] {
            prop_assert_eq!(ExitStatus::from_raw(s.to_raw()), Some(s));
        }
    }
}

/// The raw strategy is only worth something if it gets past decode: check
/// that it produces accepted calls of every kind and every decode error.
#[test]
fn raw_strategy_reaches_every_call_and_decode_error() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = raw_call();
    let mut calls = BTreeSet::new();
    let mut errors = BTreeSet::new();
    for _ in 0..10_000 {
        let (nr, args) = strategy.new_tree(&mut runner).unwrap().current();
        match Syscall::decode(nr, args) {
            Ok(call) => calls.insert(call.sysno()),
            Err(e) => errors.insert(e.kind().unwrap()),
        };
    }
    assert_eq!(calls.len(), Sysno::ALL.len(), "{calls:?}");
    let decode_errors = ErrorCode::ALL.iter().filter(|c| c.is_decode_error());
    for c in decode_errors {
        assert!(errors.contains(c), "{c} never produced");
    }
}
