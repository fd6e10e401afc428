//! SPL Token accounts: packing at setup, reading for balances, and UI amounts.

use solana_program_option::COption;
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use spl_token_interface::state::{Account as TokenAccount, AccountState, Mint};

/// The SPL Token program.
pub const TOKEN_PROGRAM: Pubkey = spl_token_interface::ID;

/// The native (wrapped SOL) mint.
pub const NATIVE_MINT: Pubkey = spl_token_interface::native_mint::ID;

/// The associated token account of `owner` for `mint` (SPL Token program).
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address(owner, mint)
}

/// Packs an initialized mint.
pub(crate) fn pack_mint(authority: Pubkey, supply: u64, decimals: u8) -> Vec<u8> {
    let mut data = vec![0; Mint::LEN];
    Mint {
        mint_authority: COption::Some(authority),
        supply,
        decimals,
        is_initialized: true,
        freeze_authority: COption::None,
    }
    .pack_into_slice(&mut data);
    data
}

/// Packs an initialized token account. `native_reserve` marks a wrapped-SOL account.
pub(crate) fn pack_account(
    mint: Pubkey,
    owner: Pubkey,
    amount: u64,
    native_reserve: Option<u64>,
) -> Vec<u8> {
    let mut data = vec![0; TokenAccount::LEN];
    TokenAccount {
        mint,
        owner,
        amount,
        delegate: COption::None,
        state: AccountState::Initialized,
        is_native: native_reserve.map_or(COption::None, COption::Some),
        delegated_amount: 0,
        close_authority: COption::None,
    }
    .pack_into_slice(&mut data);
    data
}

/// The fields of a token account that balances need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAccountView {
    /// Its mint.
    pub mint: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// Its raw amount.
    pub amount: u64,
}

/// Reads a token account's data (`None` if it is not an initialized SPL Token account).
pub fn read_account(owner_program: &Pubkey, data: &[u8]) -> Option<TokenAccountView> {
    if owner_program != &TOKEN_PROGRAM || data.len() != TokenAccount::LEN {
        return None;
    }
    let a = TokenAccount::unpack(data).ok()?;
    Some(TokenAccountView {
        mint: a.mint,
        owner: a.owner,
        amount: a.amount,
    })
}

/// Reads a mint's decimals (`None` if it is not an initialized SPL Token mint).
pub fn read_mint_decimals(owner_program: &Pubkey, data: &[u8]) -> Option<u8> {
    if owner_program != &TOKEN_PROGRAM || data.len() != Mint::LEN {
        return None;
    }
    Mint::unpack(data).ok().map(|m| m.decimals)
}

/// The UI amount as the RPC writes it in `uiAmount`.
pub fn ui_amount(amount: u64, decimals: u8) -> f64 {
    amount as f64 / 10f64.powi(i32::from(decimals))
}

/// The exact decimal string as the RPC writes it in `uiAmountString`: the raw amount with a
/// decimal point inserted, trailing zeros (and a bare point) removed.
pub fn ui_amount_string(amount: u64, decimals: u8) -> String {
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return amount.to_string();
    }
    let digits = format!("{amount:0>width$}", width = decimals + 1);
    let (int, frac) = digits.split_at(digits.len() - decimals);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}
