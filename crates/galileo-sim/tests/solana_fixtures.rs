//! Real mainnet `getTransaction` responses round-trip through the simulator's wire types, and
//! the chain's decoders read them as the validator wrote them.
//!
//! The fixtures are copied from `../shared/fixtures/solana/` into `tests/solana_fixtures/` so
//! they are versioned with the code; when the shared directory exists, the copies must match.

use std::path::Path;

use galileo_sim::chain::JITO_TIP_ACCOUNTS;
use galileo_sim::chain::record::{compute_budget, decode_instructions, system_transfer};
use galileo_sim::solana::jsonrpc::{Payload, RpcResponse};
use galileo_sim::solana::wire::{ConfirmedTransaction, EncodedTransaction, Maybe, UiStatus};
use serde_json::Value;
use solana_message::compiled_instruction::CompiledInstruction;
use solana_pubkey::Pubkey;
use solana_transaction_error::TransactionError;

const FIXTURES: [(&str, &str); 4] = [
    (
        "get_transaction_bug1.json",
        include_str!("solana_fixtures/get_transaction_bug1.json"),
    ),
    (
        "get_transaction_tips.json",
        include_str!("solana_fixtures/get_transaction_tips.json"),
    ),
    (
        "get_transaction_transaction.json",
        include_str!("solana_fixtures/get_transaction_transaction.json"),
    ),
    (
        "get_transaction_tx_source.json",
        include_str!("solana_fixtures/get_transaction_tx_source.json"),
    ),
];

const SHARED: &str = "../../../shared/fixtures/solana";

fn parse(text: &str) -> (Value, ConfirmedTransaction) {
    let original: Value = serde_json::from_str(text).unwrap();
    let typed: RpcResponse<Option<ConfirmedTransaction>> =
        serde_json::from_value(original.clone()).unwrap();
    let Payload::Result(Some(tx)) = typed.payload.clone() else {
        panic!("a transaction result")
    };
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        original,
        "round trip"
    );
    (original, tx)
}

#[test]
fn the_copies_are_the_shared_fixtures() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join(SHARED);
    let Ok(entries) = std::fs::read_dir(&shared) else {
        // Outside the development machine the copies are the reference.
        return;
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let ours: Vec<&str> = FIXTURES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ours, "every shared Solana fixture is tested");
    for (name, text) in FIXTURES {
        assert_eq!(
            std::fs::read_to_string(shared.join(name)).unwrap(),
            text,
            "{name}"
        );
    }
}

#[test]
fn every_fixture_round_trips_through_our_types() {
    for (name, text) in FIXTURES {
        let (original, tx) = parse(text);
        // Spot checks that the typed values are the fixture's, not defaults.
        assert_eq!(
            tx.slot,
            original["result"]["slot"].as_u64().unwrap(),
            "{name}"
        );
        let meta = tx.meta.as_ref().unwrap();
        assert_eq!(
            meta.fee,
            original["result"]["meta"]["fee"].as_u64().unwrap()
        );
        let EncodedTransaction::Json(ui) = &tx.transaction else {
            panic!("{name}: json encoding")
        };
        let Maybe::Value(loaded) = &meta.loaded_addresses else {
            panic!("{name}: loaded addresses")
        };
        let keys = ui.message.account_keys.len() + loaded.writable.len() + loaded.readonly.len();
        assert_eq!(
            meta.pre_balances.len(),
            keys,
            "{name}: a balance per account key"
        );
        assert_eq!(meta.post_balances.len(), keys, "{name}");
    }
}

#[test]
fn a_changed_field_breaks_the_round_trip() {
    // The comparison is strict: a value our types would lose or alter is caught.
    let (_, text) = FIXTURES[1];
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["result"]["meta"]["costUnits"] = Value::from(1234);
    v["result"]["meta"]["unknownField"] = Value::from(1);
    let typed: RpcResponse<Option<ConfirmedTransaction>> =
        serde_json::from_value(v.clone()).unwrap();
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back["result"]["meta"]["costUnits"], 1234);
    assert_ne!(back, v, "unknown fields are not silently kept");
}

/// Resolved account keys of a fixture transaction.
fn keys(tx: &ConfirmedTransaction) -> Vec<Pubkey> {
    let EncodedTransaction::Json(ui) = &tx.transaction else {
        panic!("json")
    };
    let Maybe::Value(loaded) = &tx.meta.as_ref().unwrap().loaded_addresses else {
        panic!("loaded")
    };
    ui.message
        .account_keys
        .iter()
        .chain(&loaded.writable)
        .chain(&loaded.readonly)
        .map(|k| k.parse().unwrap())
        .collect()
}

fn compiled(tx: &ConfirmedTransaction) -> Vec<CompiledInstruction> {
    let EncodedTransaction::Json(ui) = &tx.transaction else {
        panic!("json")
    };
    ui.message
        .instructions
        .iter()
        .map(|ix| CompiledInstruction {
            program_id_index: ix.program_id_index,
            accounts: ix.accounts.clone(),
            data: bs58::decode(&ix.data).into_vec().unwrap(),
        })
        .collect()
}

#[test]
fn our_decoders_read_the_real_tip_and_compute_budget() {
    let tips: Vec<Pubkey> = JITO_TIP_ACCOUNTS
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let (_, tx) = parse(FIXTURES[1].1);
    let keys = keys(&tx);
    let decoded = decode_instructions(&keys, &compiled(&tx));
    let (limit, price) = compute_budget(&decoded);
    assert_eq!(
        limit,
        Some(4_000),
        "SetComputeUnitLimit(4000), data `JBMibh`"
    );
    assert_eq!(price, None);
    let transfers: Vec<_> = decoded
        .iter()
        .filter_map(|ix| system_transfer(&ix.program_id, &ix.accounts, &ix.data))
        .collect();
    assert_eq!(transfers.len(), 2);
    let to_tips: Vec<_> = transfers.iter().filter(|t| tips.contains(&t.to)).collect();
    assert_eq!(to_tips.len(), 1, "one Jito tip");
    let tip = to_tips[0];
    let i = keys.iter().position(|k| *k == tip.to).unwrap();
    let meta = tx.meta.as_ref().unwrap();
    assert_eq!(
        meta.post_balances[i] - meta.pre_balances[i],
        tip.lamports,
        "the balance moved by the tip"
    );

    // Every fixture: the compute budget we decode is plausible for what it consumed.
    for (name, text) in FIXTURES {
        let (_, tx) = parse(text);
        let decoded = decode_instructions(&keys_of(&tx), &compiled(&tx));
        let (limit, _) = compute_budget(&decoded);
        let Maybe::Value(used) = tx.meta.as_ref().unwrap().compute_units_consumed else {
            panic!("{name}")
        };
        assert!(
            u64::from(limit.unwrap()) >= used,
            "{name}: limit {limit:?} < used {used}"
        );
    }
}

fn keys_of(tx: &ConfirmedTransaction) -> Vec<Pubkey> {
    keys(tx)
}

#[test]
fn errors_in_fixtures_are_transaction_errors_we_write_identically() {
    let (_, tx) = parse(FIXTURES[2].1);
    let meta = tx.meta.unwrap();
    let err = meta.err.clone().unwrap();
    let parsed: TransactionError = serde_json::from_value(err.clone()).unwrap();
    assert!(matches!(parsed, TransactionError::InstructionError(..)));
    assert_eq!(galileo_sim::solana::convert::error_json(&parsed), err);
    assert_eq!(meta.status, UiStatus::Err(err));
}
