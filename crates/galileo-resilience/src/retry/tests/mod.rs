//! Tests of the retry loop as a whole: the async runner on paused time, its metrics, and
//! proptests of the cores' invariants.

mod invariants;
mod metrics;
mod runner;
