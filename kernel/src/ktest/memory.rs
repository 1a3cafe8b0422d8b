//! Memory budgets in a shape a process controls (issue 14): chains of
//! 100,000 splits, destroyed and dropped in the orders that once made the
//! kernel recurse once per link (a drop of the last reference to a chain,
//! a refund through every destroyed ancestor). Judged on the root's
//! `available()`, exactly, at each stage: the objects that still exist
//! are charged, nothing else is, and in the end every byte is back; and
//! on the heap, which gets every block back.

use super::{Outcome, ensure};
use crate::memory::{MEMORY_OBJECT_COST as COST, Memory};
use crate::mm;
use alloc::sync::Arc;
use alloc::vec::Vec;

const LINKS: u64 = 100_000;
/// The newest link's own budget.
const LEAF: u64 = 1 << 20;
/// Budget of the first link: every later link's object, and the leaf.
const FIRST: u64 = LINKS * COST + LEAF;

fn split(m: &Arc<Memory>, bytes: u64) -> Result<Arc<Memory>, &'static str> {
    m.split(bytes)
        .map_err(|_| "a split the budget can pay for was refused")
}

/// `LINKS` splits below `first`, each taking all its parent has left but
/// the object's cost. `keep` gets every link (the leaf last).
fn chain(
    first: &Arc<Memory>,
    mut keep: impl FnMut(&Arc<Memory>),
) -> Result<Arc<Memory>, &'static str> {
    let mut m = first.clone();
    for _ in 0..LINKS {
        let n = split(&m, m.available() - COST)?;
        keep(&n);
        m = n;
    }
    ensure(
        m.available() == LEAF,
        "the leaf's budget is not what is left",
    )?;
    Ok(m)
}

pub fn chain_teardown(_boot: &crate::Boot) -> Outcome {
    let heap_before = mm::heap::stats().used;
    let root = Memory::root(4 * FIRST);
    let total = root.available();

    // 1. The attack's order: each parent destroyed and dropped as soon as
    //    its split exists, so the chain hangs from the leaf alone.
    let first = split(&root, FIRST)?;
    ensure(
        root.available() == total - FIRST - COST,
        "a split did not charge its budget and its object",
    )?;
    let mut m = first;
    for _ in 0..LINKS {
        let n = split(&m, m.available() - COST)?;
        m.destroy();
        m = n;
    }
    ensure(
        m.available() == LEAF,
        "the leaf's budget is not what is left",
    )?;
    // Its whole budget goes back through 100,000 destroyed ancestors.
    m.destroy();
    ensure(
        root.available() == total - (LINKS + 1) * COST,
        "the leaf's budget did not come back through its destroyed ancestors",
    )?;
    drop(m);
    ensure(
        root.available() == total,
        "freeing the chain did not refund every object",
    )?;
    log::info!("memory-chain: 100,000 links freed by one drop, every byte back");

    // 2. Ancestors destroyed first, top down; every reference but the
    //    leaf's dropped; a charge on the leaf refunded after everything is
    //    destroyed (a refund through 100,000 destroyed budgets); the leaf
    //    dropped last.
    let first = split(&root, FIRST)?;
    let mut links: Vec<Arc<Memory>> = Vec::new();
    links
        .try_reserve_exact(LINKS as usize + 1)
        .map_err(|_| "no heap for the list of links")?;
    links.push(first.clone());
    let leaf = chain(&first, |n| links.push(n.clone()))?;
    drop(first);
    leaf.charge(LEAF / 2)
        .map_err(|_| "the leaf refused a charge")?;
    for l in &links {
        l.destroy();
    }
    ensure(
        root.available() == total - (LINKS + 1) * COST - LEAF / 2,
        "destroying the chain top down did not return the unused bytes",
    )?;
    leaf.refund(LEAF / 2);
    ensure(
        root.available() == total - (LINKS + 1) * COST,
        "a refund to the destroyed leaf did not pass up to the root",
    )?;
    // The leaf's entry goes last.
    let leaf_entry = links.pop();
    drop(links);
    drop(leaf_entry);
    ensure(Arc::strong_count(&leaf) == 1, "someone else holds the leaf")?;
    drop(leaf);
    ensure(
        root.available() == total,
        "freeing the chain top-down-destroyed did not refund every object",
    )?;
    log::info!(
        "memory-chain: destroyed top down, refund through 100,000 destroyed budgets, every byte back"
    );

    // 3. The attack's order again, but a link in the middle still held
    //    when the leaf goes: the free stops there (it stays, with its
    //    ancestors, and they stay charged), the rest goes when it does.
    let mut m = split(&root, FIRST)?;
    let mut middle = None;
    for i in 1..=LINKS {
        let n = split(&m, m.available() - COST)?;
        m.destroy();
        if i == LINKS / 2 {
            middle = Some(n.clone());
        }
        m = n;
    }
    m.destroy();
    drop(m);
    // Alive: the first link and links 1 to LINKS / 2, each charged COST.
    ensure(
        root.available() == total - (LINKS / 2 + 1) * COST,
        "a held middle link and its ancestors are not exactly what stays charged",
    )?;
    drop(middle.ok_or("no middle link")?);
    ensure(
        root.available() == total,
        "freeing the held middle link did not refund the rest",
    )?;
    drop(root);
    ensure(
        mm::heap::stats().used <= heap_before,
        "heap memory not returned",
    )?;
    log::info!(
        "memory-chain: a held middle link stops the free and keeps its charge; every byte back"
    );
    Ok(())
}
