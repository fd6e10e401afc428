//! The Solana JSON-RPC service over the simulated chain.
