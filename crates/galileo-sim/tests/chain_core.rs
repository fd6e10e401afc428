//! The simulated chain: setup, swaps, time, signatures, duplicates, records, bundles.

mod chain_support;

use std::collections::BTreeMap;
use std::time::Duration;

use chain_support::*;
use galileo_sim::chain::alt;
use galileo_sim::chain::{
    BundleRejection, Chain, ChainConfig, ChainConfigError, Commitment, MAX_PROCESSING_AGE, Origin,
    SubmitOutcome, TOKEN_PROGRAM, VENUE_PROGRAM_ID, Via, associated_token_address,
};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;
use tokio::time::Instant;

fn slots(n: u64) -> Duration {
    Duration::from_millis(400 * n)
}

#[test]
fn config_validation_names_the_problem() {
    let ok = ChainConfig::default();
    assert_eq!(ok.validate(), Ok(()));

    let mut c = ok.clone();
    c.mints[1].symbol = c.mints[0].symbol.clone();
    assert_eq!(
        c.validate(),
        Err(ChainConfigError::DuplicateSymbol("USDC".into()))
    );

    let mut c = ok.clone();
    c.mints[1].address = c.mints[0].address.clone();
    assert!(matches!(
        c.validate(),
        Err(ChainConfigError::DuplicateMint(_))
    ));

    let mut c = ok.clone();
    c.mints[0].address = Some("not-base58!".into());
    assert!(matches!(
        c.validate(),
        Err(ChainConfigError::BadAddress { .. })
    ));

    let mut c = ok.clone();
    c.mints[0].decimals = 19;
    assert!(matches!(
        c.validate(),
        Err(ChainConfigError::Overflow { .. })
    ));

    let mut c = ok.clone();
    c.venues[0].liquidity = BTreeMap::from([("NOPE".to_string(), 1)]);
    assert!(matches!(
        c.validate(),
        Err(ChainConfigError::UnknownMint { .. })
    ));

    let mut c = ok.clone();
    c.venues.push(c.venues[0].clone());
    assert!(matches!(
        c.validate(),
        Err(ChainConfigError::DuplicateVenue(_))
    ));

    let mut c = ok.clone();
    c.confirmed_depth = 40;
    assert!(matches!(c.validate(), Err(ChainConfigError::Depths { .. })));

    let mut c = ok.clone();
    c.slot_ms = 0;
    assert_eq!(c.validate(), Err(ChainConfigError::ZeroSlot));

    let mut c = ok.clone();
    c.start_slot = 0;
    assert_eq!(c.validate(), Err(ChainConfigError::ZeroStartSlot));

    let mut c = ok.clone();
    c.tip_accounts.clear();
    assert_eq!(c.validate(), Err(ChainConfigError::NoTipAccounts));

    let mut c = ok.clone();
    c.venues = (0..60)
        .map(|i| galileo_sim::chain::VenueConfig {
            name: format!("v{i}"),
            liquidity: BTreeMap::new(),
        })
        .collect();
    assert!(matches!(
        c.validate(),
        Err(ChainConfigError::LookupTableFull(_))
    ));

    // Refused configs never build a chain.
    assert!(Chain::new(c, Instant::now()).is_err());
}

#[test]
fn config_reads_from_toml_with_defaults() {
    let c: ChainConfig = toml::from_str(
        r#"
        seed = 42
        [[mints]]
        symbol = "AAA"
        decimals = 3
        [[venues]]
        name = "pool"
        liquidity = { AAA = 5 }
        "#,
    )
    .unwrap();
    assert_eq!(c.seed, 42);
    assert_eq!(c.slot_ms, 400);
    assert_eq!(c.mints[0].address, None);
    let chain = Chain::new(c, Instant::now()).unwrap();
    let mint = chain.mint("AAA").unwrap().address;
    let pool = chain.pool("pool", &mint).unwrap();
    assert_eq!(chain.token_balance(&pool).unwrap().amount, 5_000);
    assert!(
        toml::from_str::<ChainConfig>("sede = 1").is_err(),
        "unknown keys are refused"
    );
}

#[tokio::test(start_paused = true)]
async fn setup_is_deterministic_for_a_seed() {
    let now = Instant::now();
    let a = Chain::new(ChainConfig::default(), now).unwrap();
    let b = Chain::new(ChainConfig::default(), now).unwrap();
    let other = Chain::new(
        ChainConfig {
            seed: 8,
            ..ChainConfig::default()
        },
        now,
    )
    .unwrap();
    let users = |c: &Chain| c.users().iter().map(|k| k.pubkey()).collect::<Vec<_>>();
    assert_eq!(users(&a), users(&b));
    assert_ne!(users(&a), users(&other));
    assert_eq!(a.lookup_table(), b.lookup_table());
    assert_eq!(a.lookup_table_addresses(), b.lookup_table_addresses());
    let (mut a, mut other) = (a, other);
    assert_ne!(
        a.latest_blockhash(now, Commitment::Processed).blockhash,
        other.latest_blockhash(now, Commitment::Processed).blockhash
    );
}

#[tokio::test(start_paused = true)]
async fn genesis_funds_users_pools_and_tip_accounts() {
    let (chain, _) = chain();
    let config = ChainConfig::default();
    assert_eq!(chain.users().len(), config.users.count);
    for user in chain.users() {
        assert_eq!(chain.balance(&user.pubkey()), config.users.lamports);
        for (m, mc) in chain.mints().iter().zip(&config.mints) {
            let raw = mc.user_balance * 10u64.pow(u32::from(mc.decimals));
            assert_eq!(
                chain.token_amount(&user.pubkey(), &m.address),
                raw,
                "{}",
                m.symbol
            );
        }
    }
    for v in chain.venues() {
        for (m, mc) in chain.mints().iter().zip(&config.mints) {
            let pool = chain.pool(&v.name, &m.address).unwrap();
            let b = chain.token_balance(&pool).unwrap();
            assert_eq!(b.owner, v.authority);
            assert_eq!(b.mint, m.address);
            assert_eq!(
                b.amount,
                mc.pool_liquidity * 10u64.pow(u32::from(mc.decimals))
            );
        }
    }
    // Wrapped SOL accounts are native: their lamports hold the amount above the reserve.
    let sol = chain.mint("SOL").unwrap().address;
    let ata = associated_token_address(&chain.users()[0].pubkey(), &sol);
    let acc = chain.account(&ata).unwrap();
    let rent = chain.minimum_balance_for_rent_exemption(acc.data.len());
    assert_eq!(
        acc.lamports,
        rent + chain.token_balance(&ata).unwrap().amount
    );
    for tip in chain.tip_accounts() {
        assert!(chain.balance(tip) > 0, "tip account {tip} exists");
    }
    assert_eq!(chain.tip_accounts().len(), 8);
    // The lookup table decodes to what the chain says it holds.
    let table = chain.account(&chain.lookup_table()).unwrap();
    assert_eq!(table.owner, alt::ADDRESS_LOOKUP_TABLE_PROGRAM);
    let decoded = alt::decode(&table.data).unwrap();
    assert_eq!(decoded.addresses, chain.lookup_table_addresses());
    assert_eq!(decoded.deactivation_slot, u64::MAX);
    assert!(decoded.addresses.contains(&VENUE_PROGRAM_ID));
    assert!(decoded.addresses.contains(&TOKEN_PROGRAM));
}

#[tokio::test(start_paused = true)]
async fn a_swap_lands_and_moves_both_mints_as_quoted() {
    let (mut chain, now) = chain();
    let user = chain.users()[1].insecure_clone();
    let usdc = chain.mint("USDC").unwrap().address;
    let jup = chain.mint("JUP").unwrap().address;
    let pool_in = chain.pool("meteora", &usdc).unwrap();
    let pool_out = chain.pool("meteora", &jup).unwrap();
    let before = (
        chain.token_amount(&user.pubkey(), &usdc),
        chain.token_amount(&user.pubkey(), &jup),
        chain.token_balance(&pool_in).unwrap().amount,
        chain.token_balance(&pool_out).unwrap().amount,
        chain.balance(&user.pubkey()),
    );
    let (in_amount, out_amount) = (12_345_678, 9_876_543);
    let ixs = chain
        .swap_instructions(
            &user.pubkey(),
            "meteora",
            &usdc,
            &jup,
            in_amount,
            out_amount,
        )
        .unwrap();
    assert_eq!(
        ixs.len(),
        1,
        "the output account exists, so no setup instruction"
    );
    let bh = blockhash(&mut chain, now);
    let tx = v0_tx(&user, &ixs, &[table(&chain)], bh);
    let sig = tx.signatures[0];
    let out = chain.submit(now, tx, Origin::direct());
    assert_eq!(
        out,
        SubmitOutcome::Landed {
            slot: chain.slot(now),
            err: None
        }
    );
    assert_eq!(
        chain.token_amount(&user.pubkey(), &usdc),
        before.0 - in_amount
    );
    assert_eq!(
        chain.token_amount(&user.pubkey(), &jup),
        before.1 + out_amount
    );
    assert_eq!(
        chain.token_balance(&pool_in).unwrap().amount,
        before.2 + in_amount
    );
    assert_eq!(
        chain.token_balance(&pool_out).unwrap().amount,
        before.3 - out_amount
    );
    let rec = chain.transaction(&sig).unwrap();
    assert_eq!(chain.balance(&user.pubkey()), before.4 - rec.fee);
    assert_eq!(rec.fee, 5_000, "one signature, no priority fee");
    assert!(
        !rec.loaded_readonly.is_empty() || !rec.loaded_writable.is_empty(),
        "the table was used"
    );
    assert_eq!(rec.inner_instructions.len(), 1);
    assert_eq!(
        rec.inner_instructions[0].instructions.len(),
        2,
        "two token transfers by CPI"
    );
    assert_eq!(rec.pre_token_balances.len(), 4);
    assert_eq!(rec.post_token_balances.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_swap_to_a_new_wallet_creates_its_token_account() {
    let (mut chain, now) = chain();
    let fresh = Keypair::new();
    chain.airdrop(&fresh.pubkey(), 1_000_000_000);
    let usdc = chain.mint("USDC").unwrap().address;
    let bonk = chain.mint("BONK").unwrap().address;
    let setup = chain
        .swap_instructions(&fresh.pubkey(), "orca", &usdc, &bonk, 0, 777)
        .unwrap();
    assert_eq!(setup.len(), 2, "idempotent ATA creation, then the swap");
    let bh = blockhash(&mut chain, now);
    // Paying 0 USDC needs a USDC account: create it idempotently too.
    let mut ixs = vec![spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        &fresh.pubkey(),
        &fresh.pubkey(),
        &usdc,
        &TOKEN_PROGRAM,
    )];
    ixs.extend(setup);
    let out = chain.submit(
        now,
        v0_tx(&fresh, &ixs, &[table(&chain)], bh),
        Origin::direct(),
    );
    assert!(
        matches!(out, SubmitOutcome::Landed { err: None, .. }),
        "{out:?}"
    );
    assert_eq!(chain.token_amount(&fresh.pubkey(), &bonk), 777);
}

#[tokio::test(start_paused = true)]
async fn a_swap_beyond_the_balance_fails_and_only_pays_the_fee() {
    let (mut chain, now) = chain();
    let user = chain.users()[2].insecure_clone();
    let usdc = chain.mint("USDC").unwrap().address;
    let sol = chain.mint("SOL").unwrap().address;
    let have = chain.token_amount(&user.pubkey(), &usdc);
    let lamports = chain.balance(&user.pubkey());
    let ixs = chain
        .swap_instructions(&user.pubkey(), "raydium", &usdc, &sol, have + 1, 1)
        .unwrap();
    let bh = blockhash(&mut chain, now);
    let tx = v0_tx(&user, &ixs, &[table(&chain)], bh);
    let sig = tx.signatures[0];
    let out = chain.submit(now, tx, Origin::direct());
    assert!(
        matches!(
            out,
            SubmitOutcome::Landed {
                err: Some(TransactionError::InstructionError(0, _)),
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(chain.token_amount(&user.pubkey(), &usdc), have);
    assert_eq!(chain.balance(&user.pubkey()), lamports - 5_000);
    assert!(!chain.transaction(&sig).unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn the_venue_program_refuses_foreign_pools() {
    let (mut chain, now) = chain();
    let user = chain.users()[0].insecure_clone();
    let victim = chain.users()[1].pubkey();
    let usdc = chain.mint("USDC").unwrap().address;
    let sol = chain.mint("SOL").unwrap().address;
    let mut ix = chain
        .swap_instruction(&user.pubkey(), "orca", &usdc, &sol, 1, 1_000)
        .unwrap();
    // Try to take the output from another user's account instead of the pool.
    ix.accounts[4].pubkey = associated_token_address(&victim, &sol);
    let bh = blockhash(&mut chain, now);
    let before = chain.token_amount(&victim, &sol);
    let out = chain.submit(now, legacy_tx(&user, &[ix], bh), Origin::direct());
    assert!(
        matches!(
            out,
            SubmitOutcome::Landed {
                err: Some(TransactionError::InstructionError(0, _)),
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(chain.token_amount(&victim, &sol), before);
    assert!(matches!(
        chain.swap_instructions(&user.pubkey(), "nope", &usdc, &sol, 1, 1),
        Err(galileo_sim::chain::SwapError::UnknownVenue(_))
    ));
    assert!(matches!(
        chain.swap_instructions(&user.pubkey(), "orca", &usdc, &usdc, 1, 1),
        Err(galileo_sim::chain::SwapError::SameMint)
    ));
    assert!(matches!(
        chain.swap_instructions(&user.pubkey(), "orca", &usdc, &Pubkey::new_unique(), 1, 1),
        Err(galileo_sim::chain::SwapError::UnknownMint(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn slots_follow_paused_time_and_blockhashes_expire_after_150() {
    let (mut chain, genesis) = chain();
    let start = chain.config().start_slot;
    assert_eq!(chain.slot(genesis), start);
    tokio::time::advance(Duration::from_millis(399)).await;
    assert_eq!(chain.slot(Instant::now()), start);
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(chain.slot(Instant::now()), start + 1);

    let info = chain.latest_blockhash(Instant::now(), Commitment::Processed);
    assert_eq!(info.slot, start + 1);
    assert_eq!(
        info.last_valid_block_height,
        chain.block_height(start + 1) + MAX_PROCESSING_AGE
    );
    let user = chain.users()[0].insecure_clone();
    let to = Pubkey::new_unique();
    let tx = |lamports| transfer_tx(&user, &to, lamports, info.blockhash);

    // Still valid at exactly lastValidBlockHeight...
    tokio::time::advance(slots(MAX_PROCESSING_AGE)).await;
    let now = Instant::now();
    let slot = chain.slot(now);
    assert_eq!(chain.block_height(slot), info.last_valid_block_height);
    assert!(chain.is_blockhash_valid(now, &info.blockhash));
    assert!(matches!(
        chain.submit(now, tx(1_000_000), Origin::direct()),
        SubmitOutcome::Landed { .. }
    ));
    // ...and gone one slot later.
    tokio::time::advance(slots(1)).await;
    let now = Instant::now();
    assert!(!chain.is_blockhash_valid(now, &info.blockhash));
    assert_eq!(
        chain.submit(now, tx(2_000_000), Origin::direct()),
        SubmitOutcome::Dropped(TransactionError::BlockhashNotFound)
    );
    assert_eq!(chain.balance(&to), 1_000_000);
}

#[tokio::test(start_paused = true)]
async fn commitment_levels_read_older_slots() {
    let (mut chain, _) = chain();
    tokio::time::advance(slots(100)).await;
    let now = Instant::now();
    let processed = chain.latest_blockhash(now, Commitment::Processed);
    let confirmed = chain.latest_blockhash(now, Commitment::Confirmed);
    let finalized = chain.latest_blockhash(now, Commitment::Finalized);
    assert_eq!(
        processed.slot - confirmed.slot,
        chain.config().confirmed_depth
    );
    assert_eq!(
        processed.slot - finalized.slot,
        chain.config().finalized_depth
    );
    assert_ne!(processed.blockhash, finalized.blockhash);
    assert!(chain.is_blockhash_valid(now, &finalized.blockhash));
    assert_eq!(
        finalized.last_valid_block_height,
        finalized.slot + MAX_PROCESSING_AGE
    );
}

#[tokio::test(start_paused = true)]
async fn duplicates_and_bad_signatures_are_dropped() {
    let (mut chain, now) = chain();
    let user = chain.users()[0].insecure_clone();
    let to = Pubkey::new_unique();
    let bh = blockhash(&mut chain, now);
    let tx = transfer_tx(&user, &to, 5_000_000, bh);
    assert!(matches!(
        chain.submit(now, tx.clone(), Origin::direct()),
        SubmitOutcome::Landed { err: None, .. }
    ));
    assert_eq!(
        chain.submit(now, tx.clone(), Origin::direct()),
        SubmitOutcome::Dropped(TransactionError::AlreadyProcessed)
    );
    // Still a duplicate in a later slot while the blockhash lives.
    tokio::time::advance(slots(10)).await;
    assert_eq!(
        chain.submit(Instant::now(), tx, Origin::direct()),
        SubmitOutcome::Dropped(TransactionError::AlreadyProcessed)
    );
    let bad = corrupt(&transfer_tx(&user, &to, 7, bh));
    assert_eq!(
        chain.submit(Instant::now(), bad.clone(), Origin::direct()),
        SubmitOutcome::Dropped(TransactionError::SignatureFailure)
    );
    assert!(chain.transaction(&bad.signatures[0]).is_none());
    assert_eq!(chain.balance(&to), 5_000_000);
}

#[tokio::test(start_paused = true)]
async fn an_unfunded_fee_payer_is_dropped_not_charged() {
    let (mut chain, now) = chain();
    let poor = Keypair::new();
    let bh = blockhash(&mut chain, now);
    let out = chain.submit(
        now,
        transfer_tx(&poor, &Pubkey::new_unique(), 1, bh),
        Origin::direct(),
    );
    assert!(matches!(out, SubmitOutcome::Dropped(_)), "{out:?}");
    assert_eq!(chain.landed().count(), 0);
}

#[tokio::test(start_paused = true)]
async fn landed_transactions_record_budget_tips_and_peer() {
    let (mut chain, now) = chain();
    let user = chain.users()[3].insecure_clone();
    let tip = chain.tip_accounts()[5];
    let tip_before = chain.balance(&tip);
    let ixs = [
        ComputeBudgetInstruction::set_compute_unit_limit(60_000),
        ComputeBudgetInstruction::set_compute_unit_price(25_000),
        solana_system_interface::instruction::transfer(&user.pubkey(), &tip, 12_345),
        spl_memo_ix(b"hello"),
    ];
    let bh = blockhash(&mut chain, now);
    let tx = legacy_tx(&user, &ixs, bh);
    let sig = tx.signatures[0];
    let peer: std::net::IpAddr = "127.0.0.42".parse().unwrap();
    let out = chain.submit(
        now,
        tx,
        Origin {
            peer: Some(peer),
            via: Via::Rpc,
        },
    );
    assert!(
        matches!(out, SubmitOutcome::Landed { err: None, .. }),
        "{out:?}"
    );
    let rec = chain.transaction(&sig).unwrap();
    assert_eq!(rec.origin.peer, Some(peer));
    assert_eq!(rec.origin.via, Via::Rpc);
    assert_eq!(rec.compute_unit_limit, Some(60_000));
    assert_eq!(rec.compute_unit_price, Some(25_000));
    assert_eq!(rec.tips.len(), 1);
    assert_eq!(
        (rec.tips[0].from, rec.tips[0].to, rec.tips[0].lamports),
        (user.pubkey(), tip, 12_345)
    );
    assert_eq!(rec.tip_lamports(), 12_345);
    assert_eq!(rec.instructions.len(), 4);
    assert_eq!(rec.instructions[3].data, b"hello");
    // Priority fee: 60_000 CU * 25_000 micro-lamports = 1_500 lamports on top of 5_000.
    assert_eq!(rec.fee, 6_500);
    assert_eq!(chain.balance(&tip), tip_before + 12_345);
    assert!(
        rec.logs.iter().any(|l| l.contains("Memo")),
        "{:?}",
        rec.logs
    );
}

fn spl_memo_ix(data: &[u8]) -> solana_instruction::Instruction {
    solana_instruction::Instruction {
        program_id: Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
        accounts: vec![],
        data: data.to_vec(),
    }
}

#[tokio::test(start_paused = true)]
async fn statuses_settle_with_time() {
    let (mut chain, now) = chain();
    let user = chain.users()[0].insecure_clone();
    let bh = blockhash(&mut chain, now);
    let tx = transfer_tx(&user, &Pubkey::new_unique(), 1_000_000, bh);
    let sig = tx.signatures[0];
    assert!(chain.signature_status(now, &sig, false).is_none());
    chain.submit(now, tx, Origin::direct());
    let st = chain.signature_status(now, &sig, false).unwrap();
    assert_eq!(
        (st.confirmation_status, st.confirmations),
        (Commitment::Processed, Some(0))
    );
    tokio::time::advance(slots(1)).await;
    let st = chain.signature_status(Instant::now(), &sig, false).unwrap();
    assert_eq!(
        (st.confirmation_status, st.confirmations),
        (Commitment::Confirmed, Some(1))
    );
    tokio::time::advance(slots(31)).await;
    let st = chain.signature_status(Instant::now(), &sig, false).unwrap();
    assert_eq!(
        (st.confirmation_status, st.confirmations),
        (Commitment::Finalized, None)
    );
    // Out of the status cache, found only when searching history.
    tokio::time::advance(slots(300)).await;
    assert!(
        chain
            .signature_status(Instant::now(), &sig, false)
            .is_none()
    );
    assert!(chain.signature_status(Instant::now(), &sig, true).is_some());
}

#[tokio::test(start_paused = true)]
async fn a_bundle_with_a_failing_transaction_changes_nothing() {
    let (mut chain, now) = chain();
    let a = chain.users()[0].insecure_clone();
    let b = chain.users()[1].insecure_clone();
    let usdc = chain.mint("USDC").unwrap().address;
    let sol = chain.mint("SOL").unwrap().address;
    let tip = chain.tip_accounts()[0];
    let bh = blockhash(&mut chain, now);
    let swap = chain
        .swap_instructions(&a.pubkey(), "orca", &usdc, &sol, 1_000_000, 10_000_000)
        .unwrap();
    let first = v0_tx(&a, &swap, &[table(&chain)], bh);
    let second = transfer_tx(&a, &tip, 10_000, bh);
    let too_much = chain.token_amount(&b.pubkey(), &usdc) + 1;
    let failing = chain
        .swap_instructions(&b.pubkey(), "orca", &usdc, &sol, too_much, 1)
        .unwrap();
    let third = v0_tx(&b, &failing, &[table(&chain)], bh);

    let watched: Vec<Pubkey> = [a.pubkey(), b.pubkey(), tip]
        .into_iter()
        .chain(
            [&a, &b]
                .iter()
                .flat_map(|k| [usdc, sol].map(|m| associated_token_address(&k.pubkey(), &m))),
        )
        .chain([usdc, sol].map(|m| chain.pool("orca", &m).unwrap()))
        .collect();
    let snapshot = |c: &Chain| watched.iter().map(|k| c.account(k)).collect::<Vec<_>>();
    let before = snapshot(&chain);
    let r = chain.submit_bundle(
        now,
        vec![first.clone(), second.clone(), third],
        Origin::direct(),
        1_000,
    );
    assert!(
        matches!(
            r,
            Err(BundleRejection::Transaction {
                index: 2,
                error: TransactionError::InstructionError(..)
            })
        ),
        "{r:?}"
    );
    assert_eq!(
        snapshot(&chain),
        before,
        "no account changed, fees included"
    );
    assert_eq!(chain.landed().count(), 0);
    // The same first two alone land, atomically, tip paid.
    let (slot, sigs) = chain
        .submit_bundle(now, vec![first.clone(), second], Origin::direct(), 1_000)
        .unwrap();
    assert_eq!(sigs.len(), 2);
    assert!(
        sigs.iter()
            .all(|s| chain.transaction(s).is_some_and(|r| r.slot == slot))
    );
    assert_ne!(snapshot(&chain), before);
    // Replaying it is refused as a duplicate, changing nothing.
    let after = snapshot(&chain);
    let r = chain.submit_bundle(now, vec![first], Origin::direct(), 0);
    assert!(matches!(
        r,
        Err(BundleRejection::Transaction {
            index: 0,
            error: TransactionError::AlreadyProcessed
        })
    ));
    assert_eq!(snapshot(&chain), after);
}

#[tokio::test(start_paused = true)]
async fn a_bundle_tipping_too_little_changes_nothing() {
    let (mut chain, now) = chain();
    let a = chain.users()[0].insecure_clone();
    let tip = chain.tip_accounts()[3];
    let bh = blockhash(&mut chain, now);
    let before = (chain.balance(&a.pubkey()), chain.balance(&tip));
    let r = chain.submit_bundle(
        now,
        vec![transfer_tx(&a, &tip, 999, bh)],
        Origin::direct(),
        1_000,
    );
    assert_eq!(
        r,
        Err(BundleRejection::TipTooLow {
            paid: 999,
            required: 1_000
        })
    );
    assert_eq!((chain.balance(&a.pubkey()), chain.balance(&tip)), before);
    assert_eq!(
        chain.submit_bundle(now, vec![], Origin::direct(), 0),
        Err(BundleRejection::Empty)
    );
}

#[tokio::test(start_paused = true)]
async fn simulation_changes_nothing_and_reports_failures() {
    let (mut chain, now) = chain();
    let user = chain.users()[0].insecure_clone();
    let to = Pubkey::new_unique();
    let bh = blockhash(&mut chain, now);
    let tx = transfer_tx(&user, &to, 3_000_000, bh);
    let sim = chain.simulate(now, &tx, Default::default()).unwrap();
    assert_eq!(sim.err, None);
    assert!(sim.units_consumed > 0);
    assert_eq!(sim.post_balances[1], 3_000_000);
    assert_eq!(chain.balance(&to), 0, "simulation does not land");
    let sim = chain
        .simulate(
            now,
            &corrupt(&tx),
            galileo_sim::chain::SimulateOptions {
                sig_verify: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(sim.err, Some(TransactionError::SignatureFailure));
    tokio::time::advance(slots(151)).await;
    let later = Instant::now();
    let sim = chain.simulate(later, &tx, Default::default()).unwrap();
    assert_eq!(sim.err, Some(TransactionError::BlockhashNotFound));
    let sim = chain
        .simulate(
            later,
            &tx,
            galileo_sim::chain::SimulateOptions {
                replace_recent_blockhash: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(sim.err, None);
    assert_eq!(
        sim.replacement_blockhash.unwrap().blockhash,
        chain
            .latest_blockhash(later, Commitment::Processed)
            .blockhash
    );
}

#[tokio::test(start_paused = true)]
async fn lookup_tables_resolve_with_the_runtimes_errors() {
    let (mut chain, now) = chain();
    let user = chain.users()[0].insecure_clone();
    let usdc = chain.mint("USDC").unwrap().address;
    let sol = chain.mint("SOL").unwrap().address;
    let ixs = chain
        .swap_instructions(&user.pubkey(), "orca", &usdc, &sol, 1, 1)
        .unwrap();
    let bh = blockhash(&mut chain, now);
    let good = table(&chain);
    let tx = v0_tx(&user, &ixs, std::slice::from_ref(&good), bh);
    let resolved = chain.resolve(&tx).unwrap();
    assert!(resolved.account_keys.len() > tx.message.static_account_keys().len());

    let missing = solana_message::AddressLookupTableAccount {
        key: Pubkey::new_unique(),
        ..good.clone()
    };
    let tx = v0_tx(&user, &ixs, &[missing], bh);
    assert_eq!(
        chain.resolve(&tx),
        Err(TransactionError::AddressLookupTableNotFound)
    );

    let not_a_table = solana_message::AddressLookupTableAccount {
        key: user.pubkey(),
        ..good.clone()
    };
    let tx = v0_tx(&user, &ixs, &[not_a_table], bh);
    assert_eq!(
        chain.resolve(&tx),
        Err(TransactionError::InvalidAddressLookupTableOwner)
    );

    // An index past the table's end.
    let mut tx = v0_tx(&user, &ixs, std::slice::from_ref(&good), bh);
    match &mut tx.message {
        solana_message::VersionedMessage::V0(m) => {
            m.address_table_lookups[0].readonly_indexes[0] = 250
        }
        _ => unreachable!(),
    }
    assert_eq!(
        chain.resolve(&tx),
        Err(TransactionError::InvalidAddressLookupTableIndex)
    );
}

mod props {
    use super::*;
    use galileo_sim::chain::clock::BlockhashWindow;
    use galileo_sim::chain::token::ui_amount_string;
    use galileo_sim::chain::venue::SwapData;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_blockhash_window_holds_exactly_the_last_151(seed in any::<u64>(), steps in proptest::collection::vec(0u64..400, 1..20)) {
            let mut w = BlockhashWindow::new(seed, 10);
            let mut slot = 10;
            for step in steps {
                slot += step;
                w.advance_to(slot);
                prop_assert_eq!(w.current_slot(), slot);
                prop_assert_eq!(w.len() as u64, (slot - 10).min(MAX_PROCESSING_AGE) + 1);
                for s in slot.saturating_sub(MAX_PROCESSING_AGE).max(10)..=slot {
                    let h = w.hash_at(s).unwrap();
                    prop_assert_eq!(h, galileo_sim::chain::blockhash_of(seed, s));
                    prop_assert_eq!(w.slot_of(&h), Some(s));
                }
                if slot > 10 + MAX_PROCESSING_AGE {
                    let expired = galileo_sim::chain::blockhash_of(seed, slot - MAX_PROCESSING_AGE - 1);
                    prop_assert_eq!(w.slot_of(&expired), None);
                }
                // Never backwards.
                w.advance_to(slot.saturating_sub(5));
                prop_assert_eq!(w.current_slot(), slot);
            }
        }

        #[test]
        fn ui_amount_strings_are_exact(amount in any::<u64>(), decimals in 0u8..=18) {
            let s = ui_amount_string(amount, decimals);
            let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
            prop_assert!(!frac.ends_with('0'));
            prop_assert!(frac.len() <= usize::from(decimals));
            let raw = format!("{int}{frac:0<width$}", width = usize::from(decimals));
            prop_assert_eq!(raw.parse::<u128>().unwrap(), u128::from(amount));
        }

        #[test]
        fn lookup_tables_round_trip(n in 0usize..40, slot in any::<u64>(), auth in any::<bool>()) {
            let addresses: Vec<Pubkey> = (0..n).map(|_| Pubkey::new_unique()).collect();
            let authority = auth.then(Pubkey::new_unique);
            let data = alt::encode(authority, &addresses, slot);
            prop_assert_eq!(data.len(), alt::LOOKUP_TABLE_META_SIZE + 32 * n);
            let t = alt::decode(&data).unwrap();
            prop_assert_eq!(&t.addresses, &addresses);
            prop_assert_eq!(t.authority, authority);
            prop_assert_eq!(t.last_extended_slot, slot);
            prop_assert!(alt::decode(&data[..data.len().saturating_sub(1).max(1)]).is_none() || n == 0);
        }

        #[test]
        fn swap_data_round_trips(venue in any::<u16>(), a in any::<u64>(), b in any::<u64>(), s in any::<u16>(), f in any::<u16>()) {
            let d = SwapData { venue, in_amount: a, out_amount: b, slippage_bps: s, platform_fee_bps: f };
            let bytes = d.encode();
            prop_assert_eq!(bytes.len(), galileo_sim::chain::venue::SWAP_DATA_LEN);
            prop_assert_eq!(SwapData::decode(&bytes), Some(d));
            // The DFlow client's slippage patch touches only the carried fields.
            let mut patched = bytes.clone();
            let len = patched.len();
            patched[len - 4..len - 2].copy_from_slice(&123u16.to_le_bytes());
            let p = SwapData::decode(&patched).unwrap();
            prop_assert_eq!((p.venue, p.in_amount, p.out_amount), (venue, a, b));
        }
    }

    #[derive(Clone, Debug)]
    struct Trade {
        user: usize,
        venue: usize,
        input: usize,
        output: usize,
        in_amount: u64,
        out_amount: u64,
    }

    fn trade() -> impl Strategy<Value = Trade> {
        (
            0usize..4,
            0usize..3,
            0usize..4,
            0usize..4,
            0u64..200_000_000_000_000,
            0u64..200_000_000_000_000,
        )
            .prop_filter("distinct mints", |t| t.2 != t.3)
            .prop_map(
                |(user, venue, input, output, in_amount, out_amount)| Trade {
                    user,
                    venue,
                    input,
                    output,
                    in_amount,
                    out_amount,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// Swaps conserve every mint's supply; a landed swap moves exactly the quoted amounts and
        /// a failed one moves no token.
        #[test]
        fn swaps_conserve_tokens(trades in proptest::collection::vec(trade(), 1..6)) {
            let now = Instant::now();
            let mut chain = Chain::new(ChainConfig::default(), now).unwrap();
            let mints: Vec<Pubkey> = chain.mints().iter().map(|m| m.address).collect();
            let holders: Vec<Pubkey> = chain.users().iter().map(|u| u.pubkey())
                .chain(chain.venues().iter().map(|v| v.authority)).collect();
            let total = |c: &Chain, m: &Pubkey| holders.iter().map(|h| u128::from(c.token_amount(h, m))).sum::<u128>();
            let supply: Vec<u128> = mints.iter().map(|m| total(&chain, m)).collect();
            for (i, t) in trades.into_iter().enumerate() {
                let user = chain.users()[t.user].insecure_clone();
                let venue = chain.venues()[t.venue].name.clone();
                let (mi, mo) = (mints[t.input], mints[t.output]);
                let before = (chain.token_amount(&user.pubkey(), &mi), chain.token_amount(&user.pubkey(), &mo));
                let ixs = chain.swap_instructions(&user.pubkey(), &venue, &mi, &mo, t.in_amount, t.out_amount).unwrap();
                let bh = blockhash(&mut chain, now);
                // A memo keeps signatures distinct when trades repeat.
                let mut ixs = ixs;
                ixs.push(spl_memo_ix(format!("{i}").as_bytes()));
                let out = chain.submit(now, v0_tx(&user, &ixs, &[table(&chain)], bh), Origin::direct());
                let after = (chain.token_amount(&user.pubkey(), &mi), chain.token_amount(&user.pubkey(), &mo));
                match out {
                    SubmitOutcome::Landed { err: None, .. } => {
                        prop_assert_eq!(after, (before.0 - t.in_amount, before.1 + t.out_amount));
                    }
                    SubmitOutcome::Landed { err: Some(_), .. } => prop_assert_eq!(after, before),
                    SubmitOutcome::Dropped(e) => prop_assert!(false, "dropped: {e}"),
                }
                for (m, s) in mints.iter().zip(&supply) {
                    prop_assert_eq!(total(&chain, m), *s);
                }
            }
        }
    }
}
