//! The instructions of a swap: compute budget, the ledger's setup and swaps, tips.

use serde::{Deserialize, Serialize};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

use super::ledger::{Ledger, SwapLeg};
use super::problem::Problem;

/// The most compute units a transaction may ask for.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;

/// Compute-unit prices (micro-lamports per unit) of the named priority levels.
pub const PRIORITY_LEVELS: [(&str, u64); 3] =
    [("medium", 10_000), ("high", 50_000), ("veryHigh", 200_000)];

/// How a service sets compute budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeConfig {
    /// The compute-unit limit set when the client does not ask for a dynamic one.
    pub unit_limit: u32,
    /// With a dynamic limit (`dynamicComputeUnitLimit`): units per instruction of the
    /// transaction (setup, swaps, tips), as if simulated.
    pub dynamic_units_per_instruction: u32,
}

impl Default for ComputeConfig {
    fn default() -> Self {
        Self {
            unit_limit: MAX_COMPUTE_UNIT_LIMIT,
            dynamic_units_per_instruction: 60_000,
        }
    }
}

impl ComputeConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_COMPUTE_UNIT_LIMIT).contains(&self.unit_limit) {
            return Err(format!(
                "compute.unit_limit = {} must be in [1, {MAX_COMPUTE_UNIT_LIMIT}]",
                self.unit_limit
            ));
        }
        if !(1..=MAX_COMPUTE_UNIT_LIMIT).contains(&self.dynamic_units_per_instruction) {
            return Err(format!(
                "compute.dynamic_units_per_instruction = {} must be in [1, {MAX_COMPUTE_UNIT_LIMIT}]",
                self.dynamic_units_per_instruction
            ));
        }
        Ok(())
    }
}

/// How the client asked to pay for priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Priority {
    /// No price instruction (unless the API always sets one: then price 0).
    #[default]
    None,
    /// An exact price in micro-lamports per unit.
    MicroLamports(u64),
    /// A total priority fee in lamports, spread over the limit.
    Lamports(u64),
    /// A named level's price, the total capped at `max_lamports`.
    Level { price: u64, max_lamports: u64 },
}

/// A Jito tip: a transfer to one of the ledger's tip accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tip {
    /// Who pays (the user when `None`).
    pub(crate) payer: Option<Pubkey>,
    pub(crate) lamports: u64,
}

/// What a plan is built with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanRequest<'a> {
    pub(crate) user: &'a Pubkey,
    pub(crate) legs: &'a [SwapLeg],
    /// Written into the last four bytes of every swap instruction's data.
    pub(crate) slippage_bps: u16,
    pub(crate) platform_fee_bps: u16,
    pub(crate) dynamic_limit: bool,
    pub(crate) priority: Priority,
    pub(crate) tip: Option<Tip>,
    /// Always emit the price instruction (Ultra), even at price 0.
    pub(crate) always_price: bool,
    /// Picks the tip account (e.g. the request number).
    pub(crate) tip_pick: u64,
}

/// A swap's instructions by role, and the budget they were given.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) compute_budget: Vec<Instruction>,
    pub(crate) setup: Vec<Instruction>,
    /// One per leg, in route order.
    pub(crate) swaps: Vec<Instruction>,
    /// Tip transfers.
    pub(crate) tips: Vec<Instruction>,
    pub(crate) compute_unit_limit: u32,
    pub(crate) compute_unit_price: Option<u64>,
    /// Priority fee (price × limit) plus tips, in lamports.
    pub(crate) prioritization_fee_lamports: u64,
    /// Token accounts the setup creates (their rent).
    pub(crate) accounts_created: usize,
}

impl Plan {
    /// Every instruction in execution order: budget, setup, swaps, tips.
    pub(crate) fn all(&self) -> Vec<Instruction> {
        self.compute_budget
            .iter()
            .chain(&self.setup)
            .chain(&self.swaps)
            .chain(&self.tips)
            .cloned()
            .collect()
    }
}

/// Lamports a price costs over a limit, rounded up as the runtime does.
pub(crate) fn priority_fee(price_micro_lamports: u64, limit: u32) -> u64 {
    let micro = u128::from(price_micro_lamports) * u128::from(limit);
    u64::try_from(micro.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// The largest price whose fee over `limit` stays within `lamports`.
pub(crate) fn price_for(lamports: u64, limit: u32) -> u64 {
    let micro = u128::from(lamports) * 1_000_000 / u128::from(limit.max(1));
    u64::try_from(micro).unwrap_or(u64::MAX)
}

/// Asks the ledger for every leg and lays the result out.
pub(crate) fn build<L: Ledger>(
    ledger: &L,
    compute: &ComputeConfig,
    req: &PlanRequest<'_>,
) -> Result<Plan, Problem> {
    let mut setup: Vec<Instruction> = Vec::new();
    let mut swaps = Vec::with_capacity(req.legs.len());
    for leg in req.legs {
        let mut ixs = ledger
            .swap_instructions(req.user, leg)
            .map_err(|e| Problem::ledger(&e))?;
        let mut swap = ixs.pop().ok_or_else(|| {
            Problem::Internal(format!(
                "the ledger built no swap instruction for {}",
                leg.venue
            ))
        })?;
        let n = swap.data.len();
        if n < 12 {
            return Err(Problem::Internal(format!(
                "the ledger's swap instruction has {n} bytes of data; at least 12 are needed"
            )));
        }
        swap.data[n - 4..n - 2].copy_from_slice(&req.slippage_bps.to_le_bytes());
        swap.data[n - 2..].copy_from_slice(&req.platform_fee_bps.to_le_bytes());
        for ix in ixs {
            if !setup.contains(&ix) {
                setup.push(ix);
            }
        }
        swaps.push(swap);
    }
    let mut tips = Vec::new();
    if let Some(Tip { payer, lamports }) = req.tip {
        let accounts = ledger.tip_accounts();
        if accounts.is_empty() {
            return Err(Problem::Internal("the ledger has no tip account".into()));
        }
        let to = accounts[(req.tip_pick % accounts.len() as u64) as usize];
        tips.push(solana_system_interface::instruction::transfer(
            &payer.unwrap_or(*req.user),
            &to,
            lamports,
        ));
    }
    let counted = setup.len() + swaps.len() + tips.len();
    let limit = if req.dynamic_limit {
        let n = u32::try_from(counted).unwrap_or(u32::MAX);
        compute
            .dynamic_units_per_instruction
            .saturating_mul(n)
            .min(MAX_COMPUTE_UNIT_LIMIT)
    } else {
        compute.unit_limit
    };
    let price = match req.priority {
        Priority::None => req.always_price.then_some(0),
        Priority::MicroLamports(p) => Some(p),
        Priority::Lamports(l) => Some(price_for(l, limit)),
        Priority::Level {
            price,
            max_lamports,
        } => Some(price.min(price_for(max_lamports, limit))),
    };
    let mut compute_budget = vec![ComputeBudgetInstruction::set_compute_unit_limit(limit)];
    if let Some(p) = price {
        compute_budget.push(ComputeBudgetInstruction::set_compute_unit_price(p));
    }
    let tip_lamports = req.tip.map_or(0, |t| t.lamports);
    let accounts_created = setup
        .iter()
        .filter(|ix| ix.program_id == spl_associated_token_account_interface::program::ID)
        .count();
    Ok(Plan {
        compute_budget,
        setup,
        swaps,
        tips,
        compute_unit_limit: limit,
        compute_unit_price: price,
        prioritization_fee_lamports: price
            .map_or(0, |p| priority_fee(p, limit))
            .saturating_add(tip_lamports),
        accounts_created,
    })
}

/// The price of a named priority level (`medium`, `high`, `veryHigh`).
pub(crate) fn level_price(level: &str) -> Option<u64> {
    PRIORITY_LEVELS
        .iter()
        .find(|(name, _)| *name == level)
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A price derived from a fee never costs more than that fee.
        #[test]
        fn price_for_stays_within_the_fee(lamports in 0u64..10_000_000_000, limit in 1u32..=MAX_COMPUTE_UNIT_LIMIT) {
            let p = price_for(lamports, limit);
            prop_assert!(priority_fee(p, limit) <= lamports);
            prop_assert!(priority_fee(p + 1, limit) > lamports || p == u64::MAX);
        }
    }

    #[test]
    fn fees_round_up() {
        assert_eq!(priority_fee(1, 1), 1);
        assert_eq!(priority_fee(1_000_000, 200_000), 200_000);
        assert_eq!(priority_fee(0, 1_400_000), 0);
    }
}
