//! `split-chain` (issue 14, attack 1): long chains of memory splits whose
//! ancestors' capabilities are deleted as the chain grows, so that every
//! `Memory` object hangs only from its child and the last `cap_delete`
//! frees the whole chain at once. The kernel once freed such a chain (and
//! passed refunds up through its destroyed ancestors) by recursion, one
//! kernel stack frame per link, and ran off its stack; and a link's kernel
//! object cost its budget nothing, so a one-page budget could make any
//! number of them.
//!
//! 1. The attack as reported: `m = memory_split(MEMORY, 4096)`, then
//!    20,000 times `n = memory_split(m, 4096); cap_delete(m); m = n`, then
//!    `cap_delete(m)`. A split now also costs its source the kernel object
//!    (`MEMORY_OBJECT_COST`, docs/ABI.md), so the first inner split is
//!    refused with `QuotaExceeded`.
//! 2. The same chain, paid for: a budget of 20,001 pages split into a
//!    chain as deep as it allows, each link one page smaller than its
//!    parent (the page pays for the link's object; the rest of it goes
//!    back when the parent is deleted), every parent deleted at once. The
//!    20,000 links succeed and the last one-page link cannot split a page:
//!    `QuotaExceeded`. Deleting it frees the whole chain.
//! 3. Everything the budget has left cannot be split off either, unless
//!    what is left below a page pays for the object; everything but the
//!    object can.
//!
//! After each part every byte must be back (`memory_info`) and the kernel
//! must still be running.

use ferrous_rt::abi::{Handle, PAGE_SIZE, SysError, initial};
use ferrous_rt::checks::Checks;
use ferrous_rt::{println, sys};

const MEMORY: Handle = initial::MEMORY;
const LINKS: u64 = 20_000;

pub fn split_chain() -> i32 {
    let mut c = Checks::new("hostile");
    let Some(before) = c.ok("memory_info", sys::memory_info(MEMORY)) else {
        return c.finish("split-chain");
    };
    reported_attack(&mut c, before);
    let cost = paid_chain(&mut c, before);
    if let Some(cost) = cost {
        everything(&mut c, before, cost);
    }
    c.finish("split-chain")
}

/// Checks that `memory_info(MEMORY)` is back to `before`.
fn all_back(c: &mut Checks, what: &str, before: u64) {
    let now = sys::memory_info(MEMORY);
    c.check(what, now == Ok(before), (before, now));
}

/// Part 1: the attack exactly as reported.
fn reported_attack(c: &mut Checks, before: u64) {
    let Some(mut m) = c.ok(
        "memory_split(MEMORY, 4096)",
        sys::memory_split(MEMORY, PAGE_SIZE),
    ) else {
        return;
    };
    let mut links = 0;
    let mut refused = None;
    for _ in 0..LINKS {
        match sys::memory_split(m, PAGE_SIZE) {
            Ok(n) => {
                let _ = sys::cap_delete(m);
                m = n;
                links += 1;
            }
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    println!("hostile: the reported attack made {links} links, then {refused:?}");
    c.check(
        "a one-page budget cannot split off a page: the split's object costs too",
        links == 0 && refused == Some(SysError::QuotaExceeded),
        (links, refused),
    );
    c.ok("cap_delete the chain's last link", sys::cap_delete(m));
    all_back(c, "every byte of the reported attack came back", before);
}

/// Part 2: a chain of 20,000 links that pays for itself, then one more
/// split that the last link cannot pay for. Returns what a split costs
/// besides its budget, as measured.
fn paid_chain(c: &mut Checks, before: u64) -> Option<u64> {
    let budget = (LINKS + 1) * PAGE_SIZE;
    let mut m = c.ok(
        "memory_split a budget of 20,001 pages",
        sys::memory_split(MEMORY, budget),
    )?;
    let after = sys::memory_info(MEMORY).unwrap_or(0);
    let cost = before.wrapping_sub(after).wrapping_sub(budget);
    println!("hostile: a split costs its source {cost} bytes besides the budget it moves");
    c.check(
        "a split charges its source the budget and a kernel object",
        cost > 0 && cost < PAGE_SIZE,
        (before, after, budget),
    );
    let mut links = 0;
    let mut failed = None;
    for _ in 0..LINKS {
        let size = sys::memory_info(m).unwrap_or(0);
        match sys::memory_split(m, size.saturating_sub(PAGE_SIZE)) {
            Ok(n) => {
                if let Err(e) = sys::cap_delete(m) {
                    failed = Some(e);
                    break;
                }
                m = n;
                links += 1;
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    c.check(
        "a chain of 20,000 splits, every parent deleted at once",
        links == LINKS && failed.is_none(),
        (links, failed),
    );
    let left = sys::memory_info(m);
    c.check(
        "the chain's last link has one page",
        left == Ok(PAGE_SIZE),
        left,
    );
    c.expect(
        "the chain ends: its one-page link cannot split a page (QuotaExceeded)",
        sys::memory_split(m, PAGE_SIZE),
        SysError::QuotaExceeded,
    );
    c.ok(
        "cap_delete the last link frees the whole chain",
        sys::cap_delete(m),
    );
    all_back(c, "every byte of the 20,000-link chain came back", before);
    (cost > 0 && cost < PAGE_SIZE).then_some(cost)
}

/// Part 3: all that is left cannot be split off unless what is left over
/// (below a page) pays for the object; everything but the object can.
fn everything(c: &mut Checks, before: u64, cost: u64) {
    let all = before & !(PAGE_SIZE - 1);
    let whole = sys::memory_split(MEMORY, all);
    if let Ok(h) = whole {
        let _ = sys::cap_delete(h);
    }
    let pays = before - all >= cost;
    c.check(
        "splitting off everything available needs room for the object too",
        if pays {
            whole.is_ok()
        } else {
            whole == Err(SysError::QuotaExceeded)
        },
        (before, whole),
    );
    let most = (before - cost) & !(PAGE_SIZE - 1);
    if let Some(h) = c.ok(
        "memory_split of everything available but the object",
        sys::memory_split(MEMORY, most),
    ) {
        let left = sys::memory_info(MEMORY);
        c.check(
            "nothing is left but the rounding",
            left == Ok(before - most - cost),
            (before, most, left),
        );
        c.ok("cap_delete it", sys::cap_delete(h));
    }
    all_back(c, "every byte came back after splitting everything", before);
}
