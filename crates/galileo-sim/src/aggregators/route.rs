//! Quotes from the market, and the route of an echoed quote resolved back to venues.

use solana_pubkey::Pubkey;
use tokio::time::Instant;

use super::ledger::SwapLeg;
use super::problem::Problem;
use crate::market::{Market, MintId, Quote, Venue};

/// Which venues a request allows (`dexes` / `excludeDexes`): labels match exactly after the
/// query's decoding (`Meteora+DLMM` is `Meteora DLMM`); unknown labels match nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VenueFilter {
    /// Only these, when given.
    pub(crate) include: Option<Vec<String>>,
    /// Never these.
    pub(crate) exclude: Vec<String>,
}

impl VenueFilter {
    pub(crate) fn allows(&self, venue: &Venue) -> bool {
        let name = venue.name();
        self.include
            .as_ref()
            .is_none_or(|inc| inc.iter().any(|l| l == name))
            && !self.exclude.iter().any(|l| l == name)
    }
}

/// A quote with what the wire formats need besides it.
#[derive(Clone, Debug)]
pub(crate) struct Priced {
    pub(crate) quote: Quote,
    pub(crate) venue: String,
    pub(crate) input_decimals: u8,
    pub(crate) output_decimals: u8,
}

/// The market's id for a mint address.
pub(crate) fn mint_id(market: &Market, mint: &Pubkey) -> Result<MintId, Problem> {
    market.mint_by_address(mint).map_err(|e| Problem::quote(&e))
}

/// The best quote at `now` over the venues `allow` accepts.
pub(crate) fn best(
    market: &Market,
    input: &Pubkey,
    output: &Pubkey,
    amount: u64,
    now: Instant,
    mut allow: impl FnMut(&Venue) -> bool,
) -> Result<Priced, Problem> {
    if input == output {
        return Err(Problem::SameMint);
    }
    let (i, o) = (mint_id(market, input)?, mint_id(market, output)?);
    let quote = market
        .best_quote(i, o, amount, now, |_, v| allow(v))
        .map_err(|e| Problem::quote(&e))?;
    Ok(Priced {
        venue: market.venue_info(quote.venue).name().to_owned(),
        input_decimals: market.mint_info(i).decimals(),
        output_decimals: market.mint_info(o).decimals(),
        quote,
    })
}

/// One step of an echoed route, as the client sent it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EchoedStep<'a> {
    /// The venue label (`label` / `venue`), if any.
    pub(crate) label: Option<&'a str>,
    /// The pool (`ammKey` / `marketKey`).
    pub(crate) pool: &'a str,
    pub(crate) input_mint: &'a str,
    pub(crate) output_mint: &'a str,
    pub(crate) in_amount: u64,
    pub(crate) out_amount: u64,
}

/// The ledger legs of an echoed route, in order. Amounts are taken as the client sent them:
/// a merged circular quote's totals are never checked against its steps.
pub(crate) fn resolve(market: &Market, steps: &[EchoedStep<'_>]) -> Result<Vec<SwapLeg>, Problem> {
    if steps.is_empty() {
        return Err(Problem::BadRequest("routePlan is empty".into()));
    }
    steps
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let key = |what: &str, v: &str| {
                v.parse::<Pubkey>().map_err(|_| {
                    Problem::BadRequest(format!(
                        "routePlan[{n}].{what}: {v:?} is not a valid public key"
                    ))
                })
            };
            let (input_mint, output_mint, pool) = (
                key("inputMint", s.input_mint)?,
                key("outputMint", s.output_mint)?,
                key("pool", s.pool)?,
            );
            let (i, o) = (
                mint_id(market, &input_mint)?,
                mint_id(market, &output_mint)?,
            );
            if i == o {
                return Err(Problem::BadRequest(format!(
                    "routePlan[{n}] swaps a mint for itself"
                )));
            }
            let venue = s
                .label
                .and_then(|l| market.venue(l).ok())
                .or_else(|| market.venue_by_pool(&pool, i, o))
                .ok_or_else(|| {
                    Problem::BadRequest(format!(
                        "routePlan[{n}]: no venue {:?} and no pool {pool} for this pair",
                        s.label.unwrap_or("")
                    ))
                })?;
            if s.in_amount == 0 {
                return Err(Problem::BadRequest(format!("routePlan[{n}].inAmount is 0")));
            }
            Ok(SwapLeg {
                venue: market.venue_info(venue).name().to_owned(),
                pool: market.pool_address(venue, i, o),
                input_mint,
                output_mint,
                in_amount: s.in_amount,
                out_amount: s.out_amount,
            })
        })
        .collect()
}
