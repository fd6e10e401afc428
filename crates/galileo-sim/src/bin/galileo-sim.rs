//! The standalone simulator (being built).
fn main() {}
