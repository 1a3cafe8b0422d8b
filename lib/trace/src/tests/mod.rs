//! Host tests, one file per module: `event` (the catalogue), `filter`
//! (`trace=` values and the switch), `record` (the layout and `describe`),
//! `ring` (alone and under concurrency); `props` holds the property tests.

mod event;
mod filter;
mod props;
mod record;
mod ring;
