//! The venue program: a native (builtin) program in the VM that swaps between a user and a
//! venue's pools with real SPL Token transfers.
//!
//! One pool token account per (venue, mint) is the associated token account of the venue's
//! authority, a program-derived address of this program (`["venue", index as u16 LE]`). A swap
//! instruction makes two cross-program invocations of SPL Token `Transfer`: user → pool of the
//! input mint, signed by the user, and pool → user of the output mint, signed by the pool
//! authority (the builtin signs for its own PDA). So only the user signs the transaction, any
//! number of users share a pool, and the SPL Token program checks balances, mints and owners.
//!
//! Instruction data (23 bytes): tag `1`, venue index `u16`, `in_amount: u64`,
//! `out_amount: u64`, then `slippage_bps: u16` and `platform_fee_bps: u16`, which the program
//! ignores. They are last because the DFlow client patches bytes `[len-4, len-2)` of the swap
//! data with its slippage.
//!
//! Accounts: 0 user (signer), 1 user's input token account (w), 2 user's output token
//! account (w), 3 pool of the input mint (w), 4 pool of the output mint (w), 5 input mint,
//! 6 output mint, 7 pool authority, 8 SPL Token program.

use solana_instruction::error::InstructionError;
use solana_instruction::{AccountMeta, Instruction};
use solana_program_runtime::declare_process_instruction;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_pubkey::Pubkey;

use super::token::{TOKEN_PROGRAM, associated_token_address};

/// The venue program's id.
pub const VENUE_PROGRAM_ID: Pubkey =
    Pubkey::from_str_const("SimVenue11111111111111111111111111111111111");

/// The swap instruction's tag.
pub const SWAP_TAG: u8 = 1;

/// Length of the swap instruction's data.
pub const SWAP_DATA_LEN: usize = 23;

/// Compute units the program itself charges per swap (the token transfers add theirs).
pub const SWAP_COMPUTE_UNITS: u64 = 2_000;

/// The decoded data of a swap instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapData {
    /// Which venue (its index in the configuration).
    pub venue: u16,
    /// Raw amount of the input mint the user pays.
    pub in_amount: u64,
    /// Raw amount of the output mint the user receives.
    pub out_amount: u64,
    /// Carried, not enforced.
    pub slippage_bps: u16,
    /// Carried, not enforced.
    pub platform_fee_bps: u16,
}

impl SwapData {
    /// The instruction data.
    pub fn encode(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(SWAP_DATA_LEN);
        d.push(SWAP_TAG);
        d.extend_from_slice(&self.venue.to_le_bytes());
        d.extend_from_slice(&self.in_amount.to_le_bytes());
        d.extend_from_slice(&self.out_amount.to_le_bytes());
        d.extend_from_slice(&self.slippage_bps.to_le_bytes());
        d.extend_from_slice(&self.platform_fee_bps.to_le_bytes());
        d
    }

    /// Reads instruction data (`None` if it is not a swap).
    pub fn decode(d: &[u8]) -> Option<SwapData> {
        if d.len() != SWAP_DATA_LEN || d[0] != SWAP_TAG {
            return None;
        }
        let u16_at = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
        let u64_at = |i: usize| u64::from_le_bytes(d[i..i + 8].try_into().expect("8 bytes"));
        Some(SwapData {
            venue: u16_at(1),
            in_amount: u64_at(3),
            out_amount: u64_at(11),
            slippage_bps: u16_at(19),
            platform_fee_bps: u16_at(21),
        })
    }
}

/// The authority owning venue `index`'s pools.
pub fn pool_authority(index: u16) -> Pubkey {
    Pubkey::find_program_address(&[b"venue", &index.to_le_bytes()], &VENUE_PROGRAM_ID).0
}

/// Every account a swap touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapAccounts {
    /// The user (signer, owner of its token accounts).
    pub user: Pubkey,
    /// The user's token account of the input mint.
    pub user_source: Pubkey,
    /// The user's token account of the output mint.
    pub user_destination: Pubkey,
    /// The venue's pool of the input mint (receives).
    pub pool_source: Pubkey,
    /// The venue's pool of the output mint (pays).
    pub pool_destination: Pubkey,
    /// The input mint.
    pub input_mint: Pubkey,
    /// The output mint.
    pub output_mint: Pubkey,
    /// The venue's pool authority.
    pub pool_authority: Pubkey,
}

impl SwapAccounts {
    /// The accounts of a swap of `user` at venue `index`, using the user's associated token
    /// accounts.
    pub fn new(user: Pubkey, index: u16, input_mint: Pubkey, output_mint: Pubkey) -> Self {
        let authority = pool_authority(index);
        SwapAccounts {
            user,
            user_source: associated_token_address(&user, &input_mint),
            user_destination: associated_token_address(&user, &output_mint),
            pool_source: associated_token_address(&authority, &input_mint),
            pool_destination: associated_token_address(&authority, &output_mint),
            input_mint,
            output_mint,
            pool_authority: authority,
        }
    }

    /// The swap instruction.
    pub fn instruction(&self, data: SwapData) -> Instruction {
        Instruction {
            program_id: VENUE_PROGRAM_ID,
            accounts: vec![
                AccountMeta::new_readonly(self.user, true),
                AccountMeta::new(self.user_source, false),
                AccountMeta::new(self.user_destination, false),
                AccountMeta::new(self.pool_source, false),
                AccountMeta::new(self.pool_destination, false),
                AccountMeta::new_readonly(self.input_mint, false),
                AccountMeta::new_readonly(self.output_mint, false),
                AccountMeta::new_readonly(self.pool_authority, false),
                AccountMeta::new_readonly(TOKEN_PROGRAM, false),
            ],
            data: data.encode(),
        }
    }
}

/// The builtin's entrypoint, registered with `LiteSVM::add_builtin(VENUE_PROGRAM_ID, VenueProgram::vm)`.
pub(crate) use builtin::VenueProgram;

mod builtin {
    #![allow(unreachable_pub)]
    use super::{SWAP_COMPUTE_UNITS, declare_process_instruction, process};

    declare_process_instruction!(VenueProgram, SWAP_COMPUTE_UNITS, |invoke_context| {
        process(invoke_context)
    });
}

fn process(invoke_context: &mut InvokeContext<'_, '_>) -> Result<(), InstructionError> {
    let (swap, keys) = {
        let ix = invoke_context
            .transaction_context
            .get_current_instruction_context()?;
        let swap = SwapData::decode(ix.get_instruction_data())
            .ok_or(InstructionError::InvalidInstructionData)?;
        ix.check_number_of_instruction_accounts(9)?;
        if !ix.is_instruction_account_signer(0)? {
            return Err(InstructionError::MissingRequiredSignature);
        }
        let mut keys = [Pubkey::default(); 9];
        for (i, k) in (0u16..).zip(keys.iter_mut()) {
            *k = *ix.get_key_of_instruction_account(i)?;
        }
        (swap, keys)
    };
    let [
        user,
        user_source,
        user_destination,
        pool_source,
        pool_destination,
        input_mint,
        output_mint,
        authority,
        token_program,
    ] = keys;
    if token_program != TOKEN_PROGRAM {
        return Err(InstructionError::IncorrectProgramId);
    }
    let expected = SwapAccounts::new(user, swap.venue, input_mint, output_mint);
    if input_mint == output_mint
        || authority != expected.pool_authority
        || pool_source != expected.pool_source
        || pool_destination != expected.pool_destination
    {
        return Err(InstructionError::InvalidArgument);
    }
    let pay = spl_token_interface::instruction::transfer(
        &TOKEN_PROGRAM,
        &user_source,
        &pool_source,
        &user,
        &[],
        swap.in_amount,
    )
    .map_err(|_| InstructionError::InvalidArgument)?;
    invoke_context.native_invoke(pay, &[])?;
    let receive = spl_token_interface::instruction::transfer(
        &TOKEN_PROGRAM,
        &pool_destination,
        &user_destination,
        &authority,
        &[],
        swap.out_amount,
    )
    .map_err(|_| InstructionError::InvalidArgument)?;
    invoke_context.native_invoke(receive, &[authority])?;
    Ok(())
}
