//! The `NewSwapQuoteStream` a planned stream sends, from the configuration.

use solana_pubkey::Pubkey;

use crate::plan::StreamKey;
use crate::wire::{QuoteUpdateParams, SwapMode, SwapParams, SwapQuoteRequest, TransactionParams};
use crate::{TitanConfig, TitanError};

/// What every subscription asks, but the pair and amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SwapTemplate {
    pub(crate) user: Pubkey,
    slippage_bps: Option<u16>,
    providers: Option<Vec<String>>,
    dexes: Option<Vec<String>>,
    exclude_dexes: Option<Vec<String>>,
    only_direct_routes: bool,
    create_output_token_account: bool,
    update: Option<QuoteUpdateParams>,
}

impl SwapTemplate {
    pub(crate) fn from_config(cfg: &TitanConfig) -> Result<Self, TitanError> {
        let user = cfg.user_key()?.ok_or_else(|| {
            TitanError::Config(
                "user_public_key is not set: name the wallet (base58) that signs Titan's routes"
                    .into(),
            )
        })?;
        let update =
            (cfg.interval_ms.is_some() || cfg.num_quotes.is_some()).then_some(QuoteUpdateParams {
                interval_ms: cfg.interval_ms,
                num_quotes: cfg.num_quotes,
            });
        Ok(SwapTemplate {
            user,
            slippage_bps: cfg.slippage_bps,
            providers: cfg.providers.clone(),
            dexes: cfg.dexes.clone(),
            exclude_dexes: cfg.exclude_dexes.clone(),
            only_direct_routes: cfg.only_direct_routes,
            create_output_token_account: cfg.create_output_token_account,
            update,
        })
    }

    /// The request for `key` (exact in; the pair and amount of the key).
    pub(crate) fn request(&self, key: &StreamKey) -> SwapQuoteRequest {
        SwapQuoteRequest {
            swap: SwapParams {
                input_mint: key.input_mint,
                output_mint: key.output_mint,
                amount: key.amount,
                swap_mode: Some(SwapMode::ExactIn),
                slippage_bps: self.slippage_bps,
                dexes: self.dexes.clone(),
                exclude_dexes: self.exclude_dexes.clone(),
                only_direct_routes: Some(self.only_direct_routes),
                add_size_constraint: None,
                size_constraint: None,
                providers: self.providers.clone(),
                accounts_limit_total: None,
                accounts_limit_writable: None,
            },
            transaction: TransactionParams {
                user_public_key: self.user,
                close_input_token_account: Some(false),
                create_output_token_account: Some(self.create_output_token_account),
                fee_account: None,
                fee_bps: None,
                fee_from_input_mint: None,
                output_account: None,
            },
            update: self.update,
        }
    }
}
