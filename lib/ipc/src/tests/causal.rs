//! Causal IDs along a client, server and driver chain.

use super::*;

/// Fresh ids 100, 101, ...
fn generator() -> impl FnMut() -> CausalId {
    let mut next = 100;
    move || {
        next += 1;
        CausalId(next - 1)
    }
}

#[test]
fn one_id_follows_a_client_server_driver_chain() {
    let mut fresh = generator();
    let client = CausalState::new();
    let mut server = CausalState::new();
    let mut driver = CausalState::new();

    // The client handles nothing: its call starts a chain.
    let id = client.outgoing(&mut fresh);
    assert_eq!(id, CausalId(100));
    server.received(id);
    // The server calls the driver on the client's behalf.
    let to_driver = server.outgoing(&mut fresh);
    assert_eq!(to_driver, id);
    driver.received(to_driver);
    assert_eq!(driver.handling, Some(id));
    // The driver replies; the server, back from its call, still handles
    // the client's request, then replies too.
    driver.replied();
    assert_eq!(driver.handling, None);
    assert_eq!(server.handling, Some(id));
    server.replied();
    assert_eq!(server.handling, None);
    assert_eq!(client.handling, None);

    // The next call from the client is a new chain.
    assert_eq!(client.outgoing(&mut fresh), CausalId(101));
}

#[test]
fn the_generator_is_asked_only_for_new_chains() {
    let mut state = CausalState::new();
    state.received(CausalId(7));
    let id = state.outgoing(|| panic!("a handled request needs no fresh id"));
    assert_eq!(id, CausalId(7));
}

#[test]
fn reply_recv_clears_then_takes_the_next_id() {
    let mut server = CausalState::new();
    server.received(CausalId(1));
    server.replied();
    assert_eq!(server.handling, None);
    server.received(CausalId(2));
    assert_eq!(server.handling, Some(CausalId(2)));
    // An untraced message: nothing handled, so onward messages start
    // chains of their own.
    server.received(CausalId::NONE);
    assert_eq!(server.handling, None);
    assert_eq!(server.outgoing(|| CausalId(9)), CausalId(9));
}

#[test]
fn causal_ids_display() {
    assert_eq!(CausalId(0x2a).to_string(), "causal 0x2a");
    assert_eq!(CausalId::NONE.to_string(), "causal -");
    assert!(CausalId::default().is_none());
}
