//! What the services served, kept for tests to assert on (bounded: the oldest entries go).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use solana_pubkey::Pubkey;
use solana_signature::Signature;
use tokio::time::Instant;

use super::ledger::SwapLeg;

/// A quote served (Jupiter `/quote`, DFlow `/quote`, Ultra `/order`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedQuote {
    /// The core's request number.
    pub request: u64,
    /// The client's source IP.
    pub peer: IpAddr,
    /// When the request arrived: the instant the market was read at.
    pub received: Instant,
    /// What was sold.
    pub input_mint: Pubkey,
    /// What was bought.
    pub output_mint: Pubkey,
    /// Raw input.
    pub in_amount: u64,
    /// Raw output quoted.
    pub out_amount: u64,
    /// The minimum output the slippage allows.
    pub other_amount_threshold: u64,
    /// The slippage applied.
    pub slippage_bps: u16,
    /// The venue that won.
    pub venue: String,
    /// Its pool.
    pub pool: Pubkey,
    /// The ledger's slot then.
    pub context_slot: u64,
}

/// Instructions (or a transaction) served for a quote echoed back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedInstructions {
    /// The core's request number.
    pub request: u64,
    /// The client's source IP.
    pub peer: IpAddr,
    /// The signer.
    pub user: Pubkey,
    /// The swaps asked of the ledger, in route order.
    pub legs: Vec<SwapLeg>,
    /// The compute-unit limit set.
    pub compute_unit_limit: u32,
    /// The compute-unit price set, if any.
    pub compute_unit_price: Option<u64>,
    /// Whether a whole transaction was returned (Jupiter `/swap`) rather than instructions.
    pub transaction: bool,
}

/// An Ultra order served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedOrder {
    /// The quote it carries.
    pub quote: ServedQuote,
    /// Its `requestId`.
    pub request_id: String,
    /// The taker, if one was given.
    pub taker: Option<Pubkey>,
    /// The router that won.
    pub router: String,
    /// The injected `errorCode`, if any.
    pub error_code: Option<u8>,
    /// Whether it carried a transaction.
    pub with_transaction: bool,
}

/// An Ultra `/execute` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedExecution {
    /// The core's request number.
    pub request: u64,
    /// The client's source IP.
    pub peer: IpAddr,
    /// The `requestId` it named.
    pub request_id: String,
    /// The HTTP status answered.
    pub http_status: u16,
    /// `Success` or `Failed` (empty for a `400`/`500`).
    pub status: String,
    /// The result code.
    pub code: i64,
    /// The transaction's signature, once known.
    pub signature: Option<Signature>,
}

/// A bounded log.
#[derive(Debug)]
pub(crate) struct Journal<T> {
    cap: usize,
    entries: Mutex<VecDeque<T>>,
}

impl<T: Clone> Journal<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn push(&self, entry: T) {
        let mut e = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if e.len() == self.cap {
            e.pop_front();
        }
        e.push_back(entry);
    }

    pub(crate) fn all(&self) -> Vec<T> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_go() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.push(i);
        }
        assert_eq!(j.all(), [2, 3, 4]);
        j.clear();
        assert!(j.all().is_empty());
    }
}
