//! The simulated Solana chain: a LiteSVM state with mints, venue pools, the sandbox's keypairs
//! and tip accounts, where landed transactions really execute.
//!
//! [`Chain`] is sans-IO: every call that depends on time takes `now` (a
//! `tokio::time::Instant`), and the slot is derived from it ([`SlotClock`]). The chain plays
//! the validator around LiteSVM: it sanitizes and resolves lookup tables, verifies ed25519
//! signatures, checks the blockhash against the last 151 slots ([`BlockhashWindow`]) and keeps
//! the status cache (duplicates are `AlreadyProcessed`); LiteSVM executes (programs, fees,
//! compute budget, rent). Services share one chain through [`SharedChain`].

pub mod alt;
pub mod clock;
pub mod config;
mod keys;
pub mod record;
pub mod token;
pub mod venue;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use litesvm::LiteSVM;
use serde::{Deserialize, Serialize};
use solana_account::Account;
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::VersionedMessage;
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use tokio::time::Instant;

pub use alt::LookupTable;
pub use clock::{BlockhashWindow, SlotClock, blockhash_of};
pub use config::{
    ChainConfig, ChainConfigError, JITO_TIP_ACCOUNTS, MAX_PROCESSING_AGE, MintConfig, UsersConfig,
    VenueConfig,
};
pub use record::{
    DecodedInstruction, InnerInstruction, InnerInstructions, LandedTransaction, Origin,
    TipTransfer, TokenBalance, Via,
};
pub use token::{NATIVE_MINT, TOKEN_PROGRAM, associated_token_address};
pub use venue::{SwapAccounts, SwapData, VENUE_PROGRAM_ID};

/// Most accounts one transaction may lock (`MAX_TX_ACCOUNT_LOCKS`).
pub const MAX_TX_ACCOUNT_LOCKS: usize = 128;

/// Status-cache depth for `getSignatureStatuses` without `searchTransactionHistory`
/// (`MAX_RECENT_BLOCKHASHES`).
pub const STATUS_CACHE_SLOTS: u64 = 300;

/// A chain shared by services; lock it briefly and never across an `.await`.
#[derive(Clone, Debug)]
pub struct SharedChain(Arc<Mutex<Chain>>);

impl SharedChain {
    /// Shares `chain`.
    pub fn new(chain: Chain) -> Self {
        SharedChain(Arc::new(Mutex::new(chain)))
    }

    /// Locks the chain. A panic while it was held (a bug) does not poison it for the others.
    pub fn lock(&self) -> MutexGuard<'_, Chain> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A commitment level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    /// The newest slot.
    Processed,
    /// Optimistically confirmed ([`ChainConfig::confirmed_depth`] slots behind).
    Confirmed,
    /// Rooted ([`ChainConfig::finalized_depth`] slots behind). The RPC default.
    #[default]
    Finalized,
}

/// A mint on the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintInfo {
    /// Its symbol.
    pub symbol: String,
    /// Its address.
    pub address: Pubkey,
    /// Its decimals.
    pub decimals: u8,
}

/// A venue on the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueInfo {
    /// Its name.
    pub name: String,
    /// Its index (in swap instruction data and the authority's seeds).
    pub index: u16,
    /// The PDA owning its pools.
    pub authority: Pubkey,
    /// Its pool token account per mint, in the order of [`Chain::mints`].
    pub pools: Vec<Pubkey>,
}

/// A blockhash and until when it may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockhashInfo {
    /// The slot whose blockhash this is.
    pub slot: u64,
    /// The blockhash.
    pub blockhash: Hash,
    /// The last block height at which a transaction using it can land.
    pub last_valid_block_height: u64,
}

/// A transaction's accounts after lookup-table resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedTransaction {
    /// Static keys, then loaded writable, then loaded readonly.
    pub account_keys: Vec<Pubkey>,
    /// Keys loaded as writable.
    pub loaded_writable: Vec<Pubkey>,
    /// Keys loaded as readonly.
    pub loaded_readonly: Vec<Pubkey>,
    /// Whether each key is write-locked.
    pub writable: Vec<bool>,
}

impl ResolvedTransaction {
    /// The write-locked keys.
    pub fn writable_keys(&self) -> impl Iterator<Item = &Pubkey> {
        self.account_keys
            .iter()
            .zip(&self.writable)
            .filter_map(|(k, w)| w.then_some(k))
    }
}

/// The status of a landed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureStatus {
    /// Where it landed.
    pub slot: u64,
    /// Slots since then; `None` once finalized.
    pub confirmations: Option<u64>,
    /// Why it failed, if it did.
    pub err: Option<TransactionError>,
    /// How settled it is.
    pub confirmation_status: Commitment,
}

/// What happened to a submitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// It landed in `slot` (with `err` if it failed but was charged).
    Landed {
        /// The slot.
        slot: u64,
        /// The error, if it failed.
        err: Option<TransactionError>,
    },
    /// It was dropped before execution (bad signature, expired blockhash, duplicate, fee
    /// payer unable to pay...). A validator drops those silently.
    Dropped(TransactionError),
}

/// What a simulation saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// The slot it ran at.
    pub slot: u64,
    /// Why it would fail.
    pub err: Option<TransactionError>,
    /// Program logs.
    pub logs: Vec<String>,
    /// Compute units consumed.
    pub units_consumed: u64,
    /// The fee it would pay.
    pub fee: u64,
    /// Return data (program, bytes).
    pub return_data: Option<(Pubkey, Vec<u8>)>,
    /// CPIs.
    pub inner_instructions: Vec<InnerInstructions>,
    /// The accounts after it (every account key; `None` if it would not exist).
    pub post_accounts: Vec<(Pubkey, Option<Account>)>,
    /// The resolved keys, when resolution succeeded.
    pub resolved: Option<ResolvedTransaction>,
    /// Lamports before, per account key.
    pub pre_balances: Vec<u64>,
    /// Lamports after, per account key.
    pub post_balances: Vec<u64>,
    /// Token balances before.
    pub pre_token_balances: Vec<TokenBalance>,
    /// Token balances after.
    pub post_token_balances: Vec<TokenBalance>,
    /// The blockhash it ran with, when it was replaced.
    pub replacement_blockhash: Option<BlockhashInfo>,
}

/// How to simulate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimulateOptions {
    /// Verify signatures first (`SignatureFailure` otherwise).
    pub sig_verify: bool,
    /// Run with the latest blockhash instead of the transaction's.
    pub replace_recent_blockhash: bool,
}

/// Why a bundle did not land. Nothing it did remains.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleRejection {
    /// Transaction `index` failed or was refused.
    #[error("transaction {index} failed: {error}")]
    Transaction {
        /// Its position in the bundle.
        index: usize,
        /// Why.
        error: TransactionError,
    },
    /// The bundle paid the tip accounts less than required.
    #[error("bundle tipped {paid} lamports, below the minimum of {required}")]
    TipTooLow {
        /// What it paid.
        paid: u64,
        /// The minimum.
        required: u64,
    },
    /// No transaction.
    #[error("empty bundle")]
    Empty,
}

/// Why a swap could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// No such venue.
    #[error("unknown venue {0:?}")]
    UnknownVenue(String),
    /// Not one of the chain's mints.
    #[error("unknown mint {0}")]
    UnknownMint(Pubkey),
    /// Input and output mint are the same.
    #[error("input and output mint are the same")]
    SameMint,
}

/// Landed transactions, by signature, oldest first.
#[derive(Clone, Debug)]
struct History {
    records: VecDeque<LandedTransaction>,
    first_seq: u64,
    index: HashMap<Signature, u64>,
    capacity: usize,
}

impl History {
    fn get(&self, sig: &Signature) -> Option<&LandedTransaction> {
        let seq = *self.index.get(sig)?;
        self.records
            .get(usize::try_from(seq.checked_sub(self.first_seq)?).ok()?)
    }

    fn push(&mut self, rec: LandedTransaction, current_slot: u64) {
        self.index
            .insert(rec.signature, self.first_seq + self.records.len() as u64);
        self.records.push_back(rec);
        while self.records.len() > self.capacity
            && self
                .records
                .front()
                .is_some_and(|r| current_slot.saturating_sub(r.slot) > MAX_PROCESSING_AGE)
        {
            let old = self.records.pop_front().expect("non-empty");
            self.index.remove(&old.signature);
            self.first_seq += 1;
        }
    }
}

/// The simulated chain.
pub struct Chain {
    config: ChainConfig,
    svm: LiteSVM,
    clock: SlotClock,
    window: BlockhashWindow,
    mints: Vec<MintInfo>,
    venues: Vec<VenueInfo>,
    users: Vec<Keypair>,
    tip_accounts: Vec<Pubkey>,
    lookup_table: Pubkey,
    lookup_addresses: Vec<Pubkey>,
    history: History,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("slot", &self.window.current_slot())
            .field("mints", &self.mints)
            .field("venues", &self.venues.len())
            .field("users", &self.users.len())
            .field("landed", &self.history.records.len())
            .finish_non_exhaustive()
    }
}

fn account(lamports: u64, data: Vec<u8>, owner: Pubkey) -> Account {
    Account {
        lamports,
        data,
        owner,
        executable: false,
        rent_epoch: 0,
    }
}

impl Chain {
    /// Builds the chain described by `config`; its first slot starts at `genesis`.
    pub fn new(config: ChainConfig, genesis: Instant) -> Result<Chain, ChainConfigError> {
        let (valid_mints, liquidity) = config.checked()?;
        let seed = config.seed;
        let mut svm = LiteSVM::new()
            .with_sigverify(false)
            .with_blockhash_check(false);
        svm.add_builtin(VENUE_PROGRAM_ID, venue::VenueProgram::vm);
        svm.warp_to_slot(config.start_slot);

        let mint_authority = keys::derive(seed, "mint-authority").pubkey();
        let users: Vec<Keypair> = (0..config.users.count)
            .map(|i| keys::derive(seed, &format!("user/{i}")))
            .collect();
        let mints: Vec<MintInfo> = valid_mints
            .iter()
            .map(|m| MintInfo {
                symbol: m.symbol.clone(),
                address: m
                    .address
                    .unwrap_or_else(|| keys::derive(seed, &format!("mint/{}", m.symbol)).pubkey()),
                decimals: m.decimals,
            })
            .collect();
        let venues: Vec<VenueInfo> = config
            .venues
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let index = u16::try_from(i).expect("validated");
                let authority = venue::pool_authority(index);
                VenueInfo {
                    name: v.name.clone(),
                    index,
                    authority,
                    pools: mints
                        .iter()
                        .map(|m| associated_token_address(&authority, &m.address))
                        .collect(),
                }
            })
            .collect();

        let mut chain_setup = Setup { svm: &mut svm };
        for (i, (mint, valid)) in mints.iter().zip(&valid_mints).enumerate() {
            let users_total = valid.user_balance * users.len() as u64;
            let supply = liquidity.iter().map(|row| row[i]).sum::<u64>() + users_total;
            chain_setup.mint(mint, mint_authority, supply)?;
            for v in &venues {
                chain_setup.token_account(
                    v.pools[i],
                    mint,
                    v.authority,
                    liquidity[v.index as usize][i],
                )?;
            }
            for u in &users {
                let ata = associated_token_address(&u.pubkey(), &mint.address);
                chain_setup.token_account(ata, mint, u.pubkey(), valid.user_balance)?;
            }
        }
        for u in &users {
            chain_setup.system(u.pubkey(), config.users.lamports)?;
        }
        let tip_accounts: Vec<Pubkey> = config
            .tip_accounts
            .iter()
            .map(|t| config::parse_pubkey("tip_accounts", t))
            .collect::<Result<_, _>>()?;
        for t in &tip_accounts {
            let rent = chain_setup.svm.minimum_balance_for_rent_exemption(0);
            chain_setup.system(*t, rent)?;
        }
        let mut lookup_addresses = vec![VENUE_PROGRAM_ID, TOKEN_PROGRAM];
        lookup_addresses.extend(mints.iter().map(|m| m.address));
        for v in &venues {
            lookup_addresses.push(v.authority);
            lookup_addresses.extend(v.pools.iter().copied());
        }
        let lookup_table = keys::derive(seed, "lookup-table").pubkey();
        let data = alt::encode(
            Some(keys::derive(seed, "lookup-table-authority").pubkey()),
            &lookup_addresses,
            0,
        );
        let rent = chain_setup
            .svm
            .minimum_balance_for_rent_exemption(data.len());
        chain_setup.put(
            lookup_table,
            account(rent, data, alt::ADDRESS_LOOKUP_TABLE_PROGRAM),
        )?;

        let clock = SlotClock::new(genesis, config.slot_duration(), config.start_slot);
        let window = BlockhashWindow::new(seed, config.start_slot);
        let history = History {
            records: VecDeque::new(),
            first_seq: 0,
            index: HashMap::new(),
            capacity: config.history_capacity,
        };
        Ok(Chain {
            config,
            svm,
            clock,
            window,
            mints,
            venues,
            users,
            tip_accounts,
            lookup_table,
            lookup_addresses,
            history,
        })
    }

    // ---- time ----

    /// Moves the chain to the slot running at `now` (never backwards).
    pub fn advance(&mut self, now: Instant) -> u64 {
        let slot = self.clock.slot_at(now);
        if slot > self.window.current_slot() {
            self.window.advance_to(slot);
            self.svm.warp_to_slot(slot);
        }
        self.window.current_slot()
    }

    /// The current slot at `now`.
    pub fn slot(&mut self, now: Instant) -> u64 {
        self.advance(now)
    }

    /// The slot a read at `commitment` sees at `now`.
    pub fn commitment_slot(&mut self, now: Instant, commitment: Commitment) -> u64 {
        let slot = self.advance(now);
        let depth = match commitment {
            Commitment::Processed => 0,
            Commitment::Confirmed => self.config.confirmed_depth,
            Commitment::Finalized => self.config.finalized_depth,
        };
        slot.saturating_sub(depth).max(self.clock.start_slot())
    }

    /// The block height of `slot`: every slot has a block here.
    pub fn block_height(&self, slot: u64) -> u64 {
        slot
    }

    /// Unix time of `slot`.
    pub fn block_time(&self, slot: u64) -> i64 {
        let ms = slot
            .saturating_sub(self.config.start_slot)
            .saturating_mul(self.config.slot_ms);
        self.config
            .genesis_unix_time
            .saturating_add(i64::try_from(ms / 1000).unwrap_or(i64::MAX))
    }

    /// The latest blockhash at `commitment`, with its last valid block height.
    pub fn latest_blockhash(&mut self, now: Instant, commitment: Commitment) -> BlockhashInfo {
        let slot = self.commitment_slot(now, commitment);
        let blockhash = self
            .window
            .hash_at(slot)
            .unwrap_or_else(|| blockhash_of(self.config.seed, slot));
        BlockhashInfo {
            slot,
            blockhash,
            last_valid_block_height: self.block_height(slot) + MAX_PROCESSING_AGE,
        }
    }

    /// Whether a transaction using `hash` could land at `now`.
    pub fn is_blockhash_valid(&mut self, now: Instant, hash: &Hash) -> bool {
        self.advance(now);
        self.window.slot_of(hash).is_some()
    }

    /// The slot clock.
    pub fn clock(&self) -> &SlotClock {
        &self.clock
    }

    /// The configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    // ---- what is on chain ----

    /// The account at `key`.
    pub fn account(&self, key: &Pubkey) -> Option<Account> {
        self.svm.get_account(key)
    }

    /// Lamports at `key` (0 if absent).
    pub fn balance(&self, key: &Pubkey) -> u64 {
        self.svm.get_balance(key).unwrap_or(0)
    }

    /// The token balance of token account `key`.
    pub fn token_balance(&self, key: &Pubkey) -> Option<TokenBalance> {
        let acc = self.svm.get_account(key)?;
        token_balance_of(&self.svm, &self.mints, 0, &acc)
    }

    /// Raw token amount of `owner`'s associated token account for `mint` (0 if absent).
    pub fn token_amount(&self, owner: &Pubkey, mint: &Pubkey) -> u64 {
        self.token_balance(&associated_token_address(owner, mint))
            .map_or(0, |b| b.amount)
    }

    /// Decimals of `mint`, from the configured mints or the mint account.
    pub fn mint_decimals(&self, mint: &Pubkey) -> Option<u8> {
        mint_decimals(&self.svm, &self.mints, mint)
    }

    /// Lamports an account of `len` data bytes needs to be rent-exempt.
    pub fn minimum_balance_for_rent_exemption(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    /// Credits `lamports` to `key` (creating a system account), for tests and setup.
    pub fn airdrop(&mut self, key: &Pubkey, lamports: u64) {
        let mut acc = self
            .svm
            .get_account(key)
            .unwrap_or_else(|| account(0, Vec::new(), record::SYSTEM_PROGRAM));
        acc.lamports = acc.lamports.saturating_add(lamports);
        self.svm
            .set_account(*key, acc)
            .expect("a lamport change is a valid account");
    }

    /// Writes an account directly, for tests and setup.
    pub fn set_account(&mut self, key: Pubkey, acc: Account) -> Result<(), String> {
        self.svm.set_account(key, acc).map_err(|e| e.to_string())
    }

    /// The sandbox's user keypairs.
    pub fn users(&self) -> &[Keypair] {
        &self.users
    }

    /// The mints.
    pub fn mints(&self) -> &[MintInfo] {
        &self.mints
    }

    /// The mint with `symbol`.
    pub fn mint(&self, symbol: &str) -> Option<&MintInfo> {
        self.mints.iter().find(|m| m.symbol == symbol)
    }

    /// The venues.
    pub fn venues(&self) -> &[VenueInfo] {
        &self.venues
    }

    /// The venue named `name`.
    pub fn venue(&self, name: &str) -> Option<&VenueInfo> {
        self.venues.iter().find(|v| v.name == name)
    }

    /// The pool of `venue` for `mint`.
    pub fn pool(&self, venue: &str, mint: &Pubkey) -> Option<Pubkey> {
        let v = self.venue(venue)?;
        let i = self.mints.iter().position(|m| &m.address == mint)?;
        v.pools.get(i).copied()
    }

    /// The tip accounts.
    pub fn tip_accounts(&self) -> &[Pubkey] {
        &self.tip_accounts
    }

    /// The address lookup table holding the venue program, the token program, the mints,
    /// and every venue's authority and pools.
    pub fn lookup_table(&self) -> Pubkey {
        self.lookup_table
    }

    /// What the lookup table holds, in order.
    pub fn lookup_table_addresses(&self) -> &[Pubkey] {
        &self.lookup_addresses
    }

    // ---- swaps ----

    /// The accounts of a swap of `user` at `venue`.
    pub fn swap_accounts(
        &self,
        user: &Pubkey,
        venue: &str,
        input_mint: &Pubkey,
        output_mint: &Pubkey,
    ) -> Result<SwapAccounts, SwapError> {
        let v = self
            .venue(venue)
            .ok_or_else(|| SwapError::UnknownVenue(venue.to_string()))?;
        for m in [input_mint, output_mint] {
            if !self.mints.iter().any(|x| &x.address == m) {
                return Err(SwapError::UnknownMint(*m));
            }
        }
        if input_mint == output_mint {
            return Err(SwapError::SameMint);
        }
        Ok(SwapAccounts::new(*user, v.index, *input_mint, *output_mint))
    }

    /// The venue's swap instruction: `user` pays `in_amount` of `input_mint` and receives
    /// `out_amount` of `output_mint`, signed by `user` alone.
    pub fn swap_instruction(
        &self,
        user: &Pubkey,
        venue: &str,
        input_mint: &Pubkey,
        output_mint: &Pubkey,
        in_amount: u64,
        out_amount: u64,
    ) -> Result<Instruction, SwapError> {
        let accounts = self.swap_accounts(user, venue, input_mint, output_mint)?;
        let index = self.venue(venue).expect("checked").index;
        Ok(accounts.instruction(SwapData {
            venue: index,
            in_amount,
            out_amount,
            slippage_bps: 0,
            platform_fee_bps: 0,
        }))
    }

    /// The instructions of a swap: an idempotent creation of the user's output token account
    /// when it does not exist yet, then the venue's swap instruction.
    pub fn swap_instructions(
        &self,
        user: &Pubkey,
        venue: &str,
        input_mint: &Pubkey,
        output_mint: &Pubkey,
        in_amount: u64,
        out_amount: u64,
    ) -> Result<Vec<Instruction>, SwapError> {
        let swap =
            self.swap_instruction(user, venue, input_mint, output_mint, in_amount, out_amount)?;
        let mut ixs = Vec::with_capacity(2);
        if self
            .svm
            .get_account(&associated_token_address(user, output_mint))
            .is_none()
        {
            ixs.push(
                spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                    user,
                    user,
                    output_mint,
                    &TOKEN_PROGRAM,
                ),
            );
        }
        ixs.push(swap);
        Ok(ixs)
    }

    // ---- transactions ----

    /// Sanitizes `tx` and resolves its lookup tables at the current slot.
    pub fn resolve(
        &self,
        tx: &VersionedTransaction,
    ) -> Result<ResolvedTransaction, TransactionError> {
        tx.sanitize()
            .map_err(|_| TransactionError::SanitizeFailure)?;
        let message = &tx.message;
        let slot = self.window.current_slot();
        let mut loaded_writable = Vec::new();
        let mut loaded_readonly = Vec::new();
        for lookup in message.address_table_lookups().unwrap_or_default() {
            let acc = self
                .svm
                .get_account(&lookup.account_key)
                .ok_or(TransactionError::AddressLookupTableNotFound)?;
            if acc.owner != alt::ADDRESS_LOOKUP_TABLE_PROGRAM {
                return Err(TransactionError::InvalidAddressLookupTableOwner);
            }
            let table =
                alt::decode(&acc.data).ok_or(TransactionError::InvalidAddressLookupTableData)?;
            loaded_writable.extend(table.lookup(slot, &lookup.writable_indexes)?);
            loaded_readonly.extend(table.lookup(slot, &lookup.readonly_indexes)?);
        }
        let statics = message.static_account_keys();
        let mut account_keys =
            Vec::with_capacity(statics.len() + loaded_writable.len() + loaded_readonly.len());
        account_keys.extend_from_slice(statics);
        account_keys.extend_from_slice(&loaded_writable);
        account_keys.extend_from_slice(&loaded_readonly);
        let mut seen = HashSet::with_capacity(account_keys.len());
        if !account_keys.iter().all(|k| seen.insert(*k)) {
            return Err(TransactionError::AccountLoadedTwice);
        }
        if account_keys.len() > MAX_TX_ACCOUNT_LOCKS {
            return Err(TransactionError::TooManyAccountLocks);
        }
        let header = message.header();
        let signed = usize::from(header.num_required_signatures);
        let signed_writable =
            signed.saturating_sub(usize::from(header.num_readonly_signed_accounts));
        let unsigned_writable_end = statics
            .len()
            .saturating_sub(usize::from(header.num_readonly_unsigned_accounts));
        let invoked: HashSet<u8> = message
            .instructions()
            .iter()
            .map(|ix| ix.program_id_index)
            .collect();
        let writable = (0..account_keys.len())
            .map(|i| {
                let by_position = if i < statics.len() {
                    i < signed_writable || (i >= signed && i < unsigned_writable_end)
                } else {
                    i < statics.len() + loaded_writable.len()
                };
                by_position && !u8::try_from(i).is_ok_and(|i| invoked.contains(&i))
            })
            .collect();
        Ok(ResolvedTransaction {
            account_keys,
            loaded_writable,
            loaded_readonly,
            writable,
        })
    }

    /// Checks every signature against the message (real ed25519).
    pub fn verify_signatures(tx: &VersionedTransaction) -> Result<(), TransactionError> {
        let required = usize::from(tx.message.header().num_required_signatures);
        if tx.signatures.len() < required || !tx.verify_with_results().into_iter().all(|ok| ok) {
            return Err(TransactionError::SignatureFailure);
        }
        Ok(())
    }

    /// Whether `tx`'s blockhash is in the window and it was not processed already.
    fn check_age_and_status(&self, tx: &VersionedTransaction) -> Result<(), TransactionError> {
        if self.window.slot_of(tx.message.recent_blockhash()).is_none() {
            return Err(TransactionError::BlockhashNotFound);
        }
        if tx
            .signatures
            .first()
            .is_some_and(|s| self.history.get(s).is_some())
        {
            return Err(TransactionError::AlreadyProcessed);
        }
        Ok(())
    }

    /// Simulates `tx` at `now` without changing anything. `Err` only when it cannot even be
    /// sanitized or resolved; a failing simulation is `Ok` with `err` set.
    pub fn simulate(
        &mut self,
        now: Instant,
        tx: &VersionedTransaction,
        opts: SimulateOptions,
    ) -> Result<Simulation, TransactionError> {
        let slot = self.advance(now);
        let resolved = self.resolve(tx)?;
        let mut tx = tx.clone();
        let mut replacement = None;
        if opts.replace_recent_blockhash {
            let latest = self.latest_blockhash(now, Commitment::Processed);
            match &mut tx.message {
                VersionedMessage::Legacy(m) => m.recent_blockhash = latest.blockhash,
                VersionedMessage::V0(m) => m.recent_blockhash = latest.blockhash,
            }
            replacement = Some(latest);
        }
        let (pre_balances, pre_token_balances) =
            balances(&self.svm, &self.mints, &resolved.account_keys);
        let mut sim = Simulation {
            slot,
            err: None,
            logs: Vec::new(),
            units_consumed: 0,
            fee: 0,
            return_data: None,
            inner_instructions: Vec::new(),
            post_accounts: Vec::new(),
            resolved: None,
            pre_balances: pre_balances.clone(),
            post_balances: pre_balances,
            pre_token_balances: pre_token_balances.clone(),
            post_token_balances: pre_token_balances,
            replacement_blockhash: replacement,
        };
        let checks = (if opts.sig_verify {
            Self::verify_signatures(&tx)
        } else {
            Ok(())
        })
        .and_then(|()| {
            if opts.replace_recent_blockhash {
                // Only the status cache: the blockhash is current by construction.
                match tx.signatures.first() {
                    Some(s) if self.history.get(s).is_some() => {
                        Err(TransactionError::AlreadyProcessed)
                    }
                    _ => Ok(()),
                }
            } else {
                self.check_age_and_status(&tx)
            }
        });
        if let Err(e) = checks {
            sim.err = Some(e);
            sim.resolved = Some(resolved);
            return Ok(sim);
        }
        let (meta, post, err) = match self.svm.simulate_transaction(tx) {
            Ok(info) => (info.meta, info.post_accounts, None),
            Err(failed) => (failed.meta, Vec::new(), Some(failed.err)),
        };
        sim.err = err;
        sim.logs = meta.logs;
        sim.units_consumed = meta.compute_units_consumed;
        sim.fee = meta.fee;
        sim.return_data = return_data(&meta.return_data.program_id, &meta.return_data.data);
        sim.inner_instructions = inner(&meta.inner_instructions);
        let post: HashMap<Pubkey, Account> = post
            .into_iter()
            .map(|(k, a)| (k, Account::from(a)))
            .collect();
        sim.post_accounts = resolved
            .account_keys
            .iter()
            .map(|k| {
                let acc = post.get(k).cloned().or_else(|| self.svm.get_account(k));
                (*k, acc.filter(|a| a.lamports > 0 || !a.data.is_empty()))
            })
            .collect();
        if sim.err.is_none() {
            sim.post_balances = sim
                .post_accounts
                .iter()
                .map(|(_, a)| a.as_ref().map_or(0, |a| a.lamports))
                .collect();
            sim.post_token_balances = sim
                .post_accounts
                .iter()
                .enumerate()
                .filter_map(|(i, (_, a))| {
                    let i = u8::try_from(i).ok()?;
                    token_balance_of(&self.svm, &self.mints, i, a.as_ref()?)
                })
                .collect();
        }
        sim.resolved = Some(resolved);
        Ok(sim)
    }

    /// Checks `tx` as a preflight would, without executing: sanitize and resolve (`Err` in
    /// the outer result), then signatures, blockhash and duplicates.
    pub fn precheck(
        &mut self,
        now: Instant,
        tx: &VersionedTransaction,
    ) -> Result<ResolvedTransaction, TransactionError> {
        self.advance(now);
        let resolved = self.resolve(tx)?;
        Self::verify_signatures(tx)?;
        self.check_age_and_status(tx)?;
        Ok(resolved)
    }

    /// Lands `tx` at `now` as a validator would: a transaction that cannot be verified, has
    /// an expired blockhash, was processed already or whose fee payer cannot pay is dropped;
    /// otherwise it executes and lands, charged its fee even if it fails.
    pub fn submit(
        &mut self,
        now: Instant,
        tx: VersionedTransaction,
        origin: Origin,
    ) -> SubmitOutcome {
        let slot = self.advance(now);
        let resolved = match self.precheck(now, &tx) {
            Ok(r) => r,
            Err(e) => return SubmitOutcome::Dropped(e),
        };
        let block_time = self.block_time(slot);
        let executed = execute(
            &mut self.svm,
            &self.mints,
            &self.tip_accounts,
            block_time,
            tx,
            &resolved,
            origin,
            slot,
        );
        match executed {
            Ok(rec) => {
                let err = rec.err.clone();
                self.history.push(rec, slot);
                SubmitOutcome::Landed { slot, err }
            }
            Err(e) => SubmitOutcome::Dropped(e),
        }
    }

    /// Lands a bundle atomically: every transaction runs in order on a copy of the state; if
    /// any is refused or fails, or the tip accounts receive less than `min_tip_lamports`,
    /// nothing changes. On success all land in the current slot.
    pub fn submit_bundle(
        &mut self,
        now: Instant,
        txs: Vec<VersionedTransaction>,
        origin: Origin,
        min_tip_lamports: u64,
    ) -> Result<(u64, Vec<Signature>), BundleRejection> {
        if txs.is_empty() {
            return Err(BundleRejection::Empty);
        }
        let slot = self.advance(now);
        let mut svm = self.svm.clone();
        let mut records: Vec<LandedTransaction> = Vec::with_capacity(txs.len());
        for (index, tx) in txs.into_iter().enumerate() {
            let fail = |error| BundleRejection::Transaction { index, error };
            let resolved = self.precheck(now, &tx).map_err(fail)?;
            if records
                .iter()
                .any(|r| Some(&r.signature) == tx.signatures.first())
            {
                return Err(fail(TransactionError::AlreadyProcessed));
            }
            let rec = execute(
                &mut svm,
                &self.mints,
                &self.tip_accounts,
                self.block_time(slot),
                tx,
                &resolved,
                origin.clone(),
                slot,
            )
            .map_err(fail)?;
            if let Some(error) = rec.err.clone() {
                return Err(fail(error));
            }
            records.push(rec);
        }
        let paid: u64 = self
            .tip_accounts
            .iter()
            .map(|t| {
                svm.get_balance(t)
                    .unwrap_or(0)
                    .saturating_sub(self.balance(t))
            })
            .sum();
        if paid < min_tip_lamports {
            return Err(BundleRejection::TipTooLow {
                paid,
                required: min_tip_lamports,
            });
        }
        self.svm = svm;
        let signatures = records.iter().map(|r| r.signature).collect();
        for rec in records {
            self.history.push(rec, slot);
        }
        Ok((slot, signatures))
    }

    // ---- history ----

    /// The landed transaction with first signature `sig`.
    pub fn transaction(&self, sig: &Signature) -> Option<&LandedTransaction> {
        self.history.get(sig)
    }

    /// Every landed transaction still remembered, oldest first.
    pub fn landed(&self) -> impl Iterator<Item = &LandedTransaction> {
        self.history.records.iter()
    }

    /// How settled a transaction that landed in `landed_slot` is at `current_slot`.
    pub fn confirmation(&self, landed_slot: u64, current_slot: u64) -> (Commitment, Option<u64>) {
        let age = current_slot.saturating_sub(landed_slot);
        if age >= self.config.finalized_depth {
            (Commitment::Finalized, None)
        } else if age >= self.config.confirmed_depth {
            (Commitment::Confirmed, Some(age))
        } else {
            (Commitment::Processed, Some(age))
        }
    }

    /// The status of `sig` at `now`. Without `search_history`, only what the status cache
    /// still holds ([`STATUS_CACHE_SLOTS`]).
    pub fn signature_status(
        &mut self,
        now: Instant,
        sig: &Signature,
        search_history: bool,
    ) -> Option<SignatureStatus> {
        let current = self.advance(now);
        let rec = self.history.get(sig)?;
        if !search_history && current.saturating_sub(rec.slot) > STATUS_CACHE_SLOTS {
            return None;
        }
        let (confirmation_status, confirmations) = self.confirmation(rec.slot, current);
        Some(SignatureStatus {
            slot: rec.slot,
            confirmations,
            err: rec.err.clone(),
            confirmation_status,
        })
    }
}

fn mint_decimals(svm: &LiteSVM, mints: &[MintInfo], mint: &Pubkey) -> Option<u8> {
    if let Some(m) = mints.iter().find(|m| &m.address == mint) {
        return Some(m.decimals);
    }
    let acc = svm.get_account(mint)?;
    token::read_mint_decimals(&acc.owner, &acc.data)
}

fn token_balance_of(
    svm: &LiteSVM,
    mints: &[MintInfo],
    account_index: u8,
    acc: &Account,
) -> Option<TokenBalance> {
    let view = token::read_account(&acc.owner, &acc.data)?;
    Some(TokenBalance {
        account_index,
        mint: view.mint,
        owner: view.owner,
        amount: view.amount,
        decimals: mint_decimals(svm, mints, &view.mint)?,
    })
}

/// Lamports and token balances of `keys`.
fn balances(svm: &LiteSVM, mints: &[MintInfo], keys: &[Pubkey]) -> (Vec<u64>, Vec<TokenBalance>) {
    let mut lamports = Vec::with_capacity(keys.len());
    let mut tokens = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match svm.get_account(k) {
            Some(acc) => {
                lamports.push(acc.lamports);
                if let Some(b) = u8::try_from(i)
                    .ok()
                    .and_then(|i| token_balance_of(svm, mints, i, &acc))
                {
                    tokens.push(b);
                }
            }
            None => lamports.push(0),
        }
    }
    (lamports, tokens)
}

/// Executes a checked transaction on `svm`; `Err` when it is not included (the fee payer
/// cannot pay, a compute-budget instruction is invalid...).
#[allow(clippy::too_many_arguments)]
fn execute(
    svm: &mut LiteSVM,
    mints: &[MintInfo],
    tip_accounts: &[Pubkey],
    block_time: i64,
    tx: VersionedTransaction,
    resolved: &ResolvedTransaction,
    origin: Origin,
    slot: u64,
) -> Result<LandedTransaction, TransactionError> {
    let signature = tx.signatures.first().copied().unwrap_or_default();
    let keys = &resolved.account_keys;
    let (pre_balances, pre_token_balances) = balances(svm, mints, keys);
    let (meta, err) = match svm.send_transaction(tx.clone()) {
        Ok(meta) => (meta, None),
        Err(failed) => {
            if svm.get_transaction(&signature).is_none() {
                return Err(failed.err);
            }
            (failed.meta, Some(failed.err))
        }
    };
    let (post_balances, post_token_balances) = balances(svm, mints, keys);
    let instructions = record::decode_instructions(keys, tx.message.instructions());
    let (compute_unit_limit, compute_unit_price) = record::compute_budget(&instructions);
    let inner_instructions = inner(&meta.inner_instructions);
    let tips = record::tips(keys, &instructions, &inner_instructions, tip_accounts);
    Ok(LandedTransaction {
        signature,
        slot,
        block_time,
        origin,
        transaction: tx,
        account_keys: keys.clone(),
        loaded_writable: resolved.loaded_writable.clone(),
        loaded_readonly: resolved.loaded_readonly.clone(),
        instructions,
        compute_unit_limit,
        compute_unit_price,
        tips,
        err,
        fee: meta.fee,
        compute_units_consumed: meta.compute_units_consumed,
        logs: meta.logs,
        pre_balances,
        post_balances,
        pre_token_balances,
        post_token_balances,
        inner_instructions,
        return_data: return_data(&meta.return_data.program_id, &meta.return_data.data),
    })
}

fn return_data(program_id: &Pubkey, data: &[u8]) -> Option<(Pubkey, Vec<u8>)> {
    (program_id != &Pubkey::default() || !data.is_empty()).then(|| (*program_id, data.to_vec()))
}

fn inner(
    list: &solana_message::inner_instruction::InnerInstructionsList,
) -> Vec<InnerInstructions> {
    list.iter()
        .enumerate()
        .filter(|(_, ixs)| !ixs.is_empty())
        .map(|(i, ixs)| InnerInstructions {
            index: u8::try_from(i).unwrap_or(u8::MAX),
            instructions: ixs
                .iter()
                .map(|ix| InnerInstruction {
                    instruction: ix.instruction.clone(),
                    stack_height: u32::from(ix.stack_height),
                })
                .collect(),
        })
        .collect()
}

/// Writes the genesis accounts.
struct Setup<'a> {
    svm: &'a mut LiteSVM,
}

impl Setup<'_> {
    fn put(&mut self, key: Pubkey, acc: Account) -> Result<(), ChainConfigError> {
        self.svm
            .set_account(key, acc)
            .map_err(|_| ChainConfigError::BadAddress {
                field: "account",
                value: key.to_string(),
            })
    }

    fn system(&mut self, key: Pubkey, lamports: u64) -> Result<(), ChainConfigError> {
        self.put(key, account(lamports, Vec::new(), record::SYSTEM_PROGRAM))
    }

    fn mint(
        &mut self,
        mint: &MintInfo,
        authority: Pubkey,
        supply: u64,
    ) -> Result<(), ChainConfigError> {
        let data = token::pack_mint(authority, supply, mint.decimals);
        let rent = self.svm.minimum_balance_for_rent_exemption(data.len());
        self.put(mint.address, account(rent, data, TOKEN_PROGRAM))
    }

    fn token_account(
        &mut self,
        key: Pubkey,
        mint: &MintInfo,
        owner: Pubkey,
        amount: u64,
    ) -> Result<(), ChainConfigError> {
        let rent = self
            .svm
            .minimum_balance_for_rent_exemption(spl_token_interface::state::Account::LEN);
        let native = mint.address == NATIVE_MINT;
        let data = token::pack_account(mint.address, owner, amount, native.then_some(rent));
        let lamports = if native { rent + amount } else { rent };
        self.put(key, account(lamports, data, TOKEN_PROGRAM))
    }
}
