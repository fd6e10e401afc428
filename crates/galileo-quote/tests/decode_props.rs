//! Property tests: whatever bytes or JSON a provider sends, every decoder answers a value or a
//! `Decode` error, never a panic; mutating any member of a valid answer gives the same.

use galileo_quote::dflow::{self, DflowQuote};
use galileo_quote::jupiter::{self, JupiterQuote};
use galileo_quote::ultra;
use galileo_quote::{QuoteError, wire::PriceImpact};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: [&str; 7] = [
    "spec/jupiter_quote_response.json",
    "spec/jupiter_swap_instructions_response.json",
    "spec/dflow_quote_response.json",
    "spec/dflow_swap_instructions_response.json",
    "spec/ultra_order_response.json",
    "spec/ultra_execute_response.json",
    "dflow/quote_response_with_open_transaction.json",
];

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs every decoder on `body`; each must return, and any error must be `Decode` (or
/// `NoRoute` for a DFlow body that carries `failed_to_compute_swap`).
fn decode_all(body: &[u8]) -> Result<(), TestCaseError> {
    let results = [
        jupiter::decode_quote(body).map(drop),
        jupiter::decode_swap_instructions(body).map(drop),
        jupiter::decode_swap(body).map(drop),
        dflow::decode_quote(body).map(drop),
        dflow::decode_open_quote(body).map(drop),
        dflow::decode_swap_instructions(body).map(drop),
        ultra::decode_order(body).map(drop),
        ultra::decode_execution(body).map(drop),
    ];
    for r in results {
        match r {
            Ok(()) | Err(QuoteError::Decode { .. }) => {}
            Err(QuoteError::NoRoute { .. }) => {
                prop_assert!(
                    String::from_utf8_lossy(body)
                        .to_lowercase()
                        .contains("route")
                        || String::from_utf8_lossy(body).contains("failed_to_compute_swap")
                );
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
    Ok(())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[0-9]{0,22}".prop_map(Value::String),
        "[-+.eE0-9]{0,8}".prop_map(Value::String),
        "[1-9A-HJ-NP-Za-km-z]{30,46}".prop_map(Value::String),
        "[A-Za-z0-9+/=]{0,24}".prop_map(Value::String),
        ".{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer of `v` (members and array elements), the root excluded.
fn pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, &p, out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&body)?;
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        decode_all(&serde_json::to_vec(&v).unwrap())?;
    }

    /// One member of a valid answer replaced by anything (or removed): a value or a
    /// `Decode` error.
    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        pick in any::<prop::sample::Index>(),
        replacement in json_value(),
        remove in any::<bool>(),
    ) {
        let mut v = fixture(FIXTURES[which]);
        let mut all = Vec::new();
        pointers(&v, "", &mut all);
        let p = pick.get(&all).clone();
        let (parent, last) = p.rsplit_once('/').unwrap();
        match v.pointer_mut(if parent.is_empty() { "" } else { parent }).unwrap() {
            Value::Object(m) if remove => { m.remove(last); }
            Value::Array(a) if remove => { a.remove(last.parse::<usize>().unwrap()); }
            _ => *v.pointer_mut(&p).unwrap() = replacement,
        }
        decode_all(&serde_json::to_vec(&v).unwrap())?;
    }

    /// The byte-level cut of a valid answer.
    #[test]
    fn truncated_fixtures_never_panic(which in 0..FIXTURES.len(), cut in any::<prop::sample::Index>()) {
        let bytes = serde_json::to_vec(&fixture(FIXTURES[which])).unwrap();
        let n = cut.index(bytes.len());
        decode_all(&bytes[..n])?;
    }

    #[test]
    fn price_impact_parses_or_refuses(s in ".{0,70}") {
        if let Ok(p) = s.parse::<PriceImpact>() {
            prop_assert_eq!(p.as_str(), s.as_str());
            prop_assert!(!s.contains(['e', 'E']));
            prop_assert!(p.to_f64().is_finite());
        }
    }

    /// Merging any two quotes keeps the guard and the legs, without overflow.
    #[test]
    fn merges_and_slippage_hold_for_any_amounts(
        buy_in in any::<u64>(), buy_out in any::<u64>(), sell_out in any::<u64>(),
        min_return in any::<u64>(), slot_a in any::<u64>(), slot_b in any::<u64>(),
        slippage in 0u16..=10_000,
    ) {
        let mut jb: JupiterQuote = serde_json::from_value(fixture(FIXTURES[0])).unwrap();
        jb.in_amount = buy_in;
        jb.out_amount = buy_out;
        jb.context_slot = Some(slot_a);
        let mut js = jb.clone();
        js.out_amount = sell_out;
        js.context_slot = Some(slot_b);
        let m = jupiter::merge_round_trip(&jb, &js, min_return);
        prop_assert_eq!((m.in_amount, m.out_amount, m.other_amount_threshold), (buy_in, min_return, min_return));
        prop_assert_eq!(m.context_slot, Some(slot_a.max(slot_b)));
        prop_assert_eq!(m.route_plan.len(), 2);

        let mut db: DflowQuote = serde_json::from_value(fixture(FIXTURES[2])).unwrap();
        db.out_amount = buy_out;
        db.apply_slippage(slippage);
        prop_assert!(db.min_out_amount <= buy_out);
        prop_assert_eq!(db.min_out_amount, db.other_amount_threshold);
        let exact = u128::from(buy_out) * u128::from(10_000 - slippage) / 10_000;
        prop_assert_eq!(u128::from(db.min_out_amount), exact);
        let dm = dflow::merge_round_trip(&db, &db, min_return);
        prop_assert_eq!((dm.min_out_amount, dm.out_amount), (min_return, min_return));
    }

    /// Whatever an order's transaction field holds, asking for it answers, never panics.
    #[test]
    fn ultra_transactions_of_any_string(t in prop::option::of(".{0,64}"), code in prop::option::of(any::<i64>())) {
        let mut v = fixture(FIXTURES[4]);
        v["transaction"] = t.clone().map_or(Value::Null, Value::String);
        v["errorCode"] = code.map_or(Value::Null, Value::from);
        let order = ultra::decode_order(&serde_json::to_vec(&v).unwrap()).unwrap();
        let taker = order.taker.unwrap();
        let r = order.transaction_for(&taker);
        if code.is_some() || t.is_none() {
            prop_assert!(r.is_err());
        }
    }
}
