//! The Jito block-engine service: bundles over the simulated chain.
