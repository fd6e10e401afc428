//! The simulated Solana chain: a LiteSVM state with mints, venue pools, the sandbox's keypairs
//! and tip accounts, where landed transactions really execute.
