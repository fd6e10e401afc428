//! `QuoteSource`: what the dispatcher needs from an aggregator, statically dispatched.

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;

use galileo_net::{BackendId, IpLease};
use solana_pubkey::Pubkey;

use crate::QuoteError;

/// Which side of a round trip a quote prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    /// `base → intermediate`, for the trade size.
    Buy,
    /// `intermediate → base`, for exactly the buy leg's out amount.
    Sell,
}

impl Leg {
    /// The metric label (`leg` in `galileo_quote_requests_total`).
    pub fn label(self) -> &'static str {
        match self {
            Leg::Buy => "buy",
            Leg::Sell => "sell",
        }
    }
}

/// One quote to ask for. Provider options (slippage, DEX lists, route limits) belong to each
/// client's configuration, not here.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuoteRequest {
    /// The token sold.
    pub input_mint: Pubkey,
    /// The token bought.
    pub output_mint: Pubkey,
    /// Raw units of `input_mint` (exact in).
    pub amount: u64,
    /// The side of the round trip (for labels and spans).
    pub leg: Leg,
}

impl QuoteRequest {
    /// A request for `amount` of `input_mint` into `output_mint`.
    pub fn new(input_mint: Pubkey, output_mint: Pubkey, amount: u64, leg: Leg) -> Self {
        Self {
            input_mint,
            output_mint,
            amount,
            leg,
        }
    }
}

impl fmt::Debug for QuoteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} → {}",
            self.leg.label(),
            self.amount,
            self.input_mint,
            self.output_mint
        )
    }
}

/// What every provider's quote says, whatever its wire shape.
pub trait Quoted {
    /// The token sold.
    fn input_mint(&self) -> Pubkey;
    /// The token bought.
    fn output_mint(&self) -> Pubkey;
    /// Raw units in.
    fn in_amount(&self) -> u64;
    /// Raw units out, fees deducted, before slippage.
    fn out_amount(&self) -> u64;
    /// The minimum out after slippage (`otherAmountThreshold`); `out_amount` when the provider
    /// gives none.
    fn min_out_amount(&self) -> u64 {
        self.out_amount()
    }
    /// The slot the provider priced at, when it says.
    fn context_slot(&self) -> Option<u64> {
        None
    }
}

/// An aggregator the dispatcher can quote round trips on.
///
/// Implemented by [`JupiterClient`](crate::jupiter::JupiterClient),
/// [`UltraClient`](crate::ultra::UltraClient), [`DflowClient`](crate::dflow::DflowClient),
/// [`Guarded`](crate::Guarded) (any source behind a circuit breaker and a retry policy), and
/// galileo-titan's stream source. Generic and monomorphized: `async fn` in the trait, no `dyn`.
///
/// A request made under `lease` leaves from `lease.ip()` and reports its outcome to the lease
/// (galileo-net's [`HttpClient`](galileo_net::HttpClient) does both).
pub trait QuoteSource: Send + Sync {
    /// The provider's quote.
    type Quote: Quoted + Clone + fmt::Debug + Send + Sync + 'static;
    /// What the swap-instructions call returns.
    type Instructions: Send + 'static;

    /// The backend's name, as in metrics (`jupiter`, `ultra`, `dflow`, `titan`).
    fn name(&self) -> &str;

    /// The allocator backend whose per-IP budget each request spends, if it is paced.
    fn backend(&self) -> Option<BackendId> {
        None
    }

    /// Requests one quote costs from the lease's budget (0 for a source that makes none, such
    /// as a stream).
    fn cost(&self) -> u32 {
        1
    }

    /// The most quotes this backend should have in flight at once (`None`: unbounded, the
    /// default; a configured soft cap otherwise).
    fn backend_limit(&self) -> Option<NonZeroUsize> {
        None
    }

    /// Quotes `request` from `lease`'s IP.
    fn quote(
        &self,
        lease: &IpLease,
        request: &QuoteRequest,
    ) -> impl Future<Output = Result<Self::Quote, QuoteError>> + Send;

    /// The instructions that execute `quote` for `user` (the signer), from `lease`'s IP.
    fn swap_instructions(
        &self,
        lease: &IpLease,
        quote: &Self::Quote,
        user: &Pubkey,
    ) -> impl Future<Output = Result<Self::Instructions, QuoteError>> + Send;
}

/// Forwards every method of [`QuoteSource`] to the source behind a pointer.
macro_rules! forward_source {
    ($($ptr:ty),*) => {$(
        impl<S: QuoteSource> QuoteSource for $ptr {
            type Quote = S::Quote;
            type Instructions = S::Instructions;

            fn name(&self) -> &str {
                (**self).name()
            }
            fn backend(&self) -> Option<BackendId> {
                (**self).backend()
            }
            fn cost(&self) -> u32 {
                (**self).cost()
            }
            fn backend_limit(&self) -> Option<NonZeroUsize> {
                (**self).backend_limit()
            }
            fn quote(
                &self,
                lease: &IpLease,
                request: &QuoteRequest,
            ) -> impl Future<Output = Result<Self::Quote, QuoteError>> + Send {
                (**self).quote(lease, request)
            }
            fn swap_instructions(
                &self,
                lease: &IpLease,
                quote: &Self::Quote,
                user: &Pubkey,
            ) -> impl Future<Output = Result<Self::Instructions, QuoteError>> + Send {
                (**self).swap_instructions(lease, quote, user)
            }
        }
    )*};
}

forward_source!(&S, std::sync::Arc<S>);
