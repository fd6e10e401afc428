//! The HTTP aggregators on the real chain: a quote from Jupiter or DFlow turns into
//! swap-instructions that land through the RPC service and move exactly the quoted amounts;
//! an Ultra order signed by the taker lands through `/execute`.

mod chain_support;
mod support;

use std::net::SocketAddr;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chain_support::{table, v0_tx};
use galileo_sim::app::{App, SimConfig};
use galileo_sim::chain::{Via, associated_token_address};
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_client::rpc_config::CommitmentConfig;
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use support::{Answer, http1, ip};

const SOL: &str = "So11111111111111111111111111111111111111112";
const JUP: &str = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN";

async fn call(app: &App, service: &str, path: &str, body: Option<&Value>) -> Answer {
    let addr: SocketAddr = app.sandbox().service(service).unwrap().addr();
    let b = Request::builder()
        .method(if body.is_some() { "POST" } else { "GET" })
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json");
    let bytes = body
        .map(|v| serde_json::to_vec(v).unwrap())
        .unwrap_or_default();
    let answer = http1(
        ip("127.0.0.1"),
        addr,
        b.body(Full::new(Bytes::from(bytes))).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
    answer
}

fn instruction(v: &Value) -> Instruction {
    Instruction {
        program_id: Pubkey::from_str(v["programId"].as_str().unwrap()).unwrap(),
        accounts: v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| AccountMeta {
                pubkey: Pubkey::from_str(a["pubkey"].as_str().unwrap()).unwrap(),
                is_signer: a["isSigner"].as_bool().unwrap(),
                is_writable: a["isWritable"].as_bool().unwrap(),
            })
            .collect(),
        data: BASE64.decode(v["data"].as_str().unwrap()).unwrap(),
    }
}

/// Every instruction of a swap-instructions answer, in execution order.
fn instructions(v: &Value) -> Vec<Instruction> {
    let keys = [
        "computeBudgetInstructions",
        "setupInstructions",
        "tokenLedgerInstruction",
        "swapInstruction",
        "cleanupInstruction",
        "cleanupInstructions",
        "otherInstructions",
    ];
    let mut out = Vec::new();
    for k in keys {
        match &v[k] {
            Value::Array(list) => out.extend(list.iter().map(instruction)),
            Value::Object(_) => out.push(instruction(&v[k])),
            _ => {}
        }
    }
    out
}

struct Balances {
    rpc: RpcClient,
    sol: Pubkey,
    jup: Pubkey,
}

impl Balances {
    async fn of(&self, user: &Pubkey) -> (u64, u64) {
        let amount = |mint| async move {
            self.rpc
                .get_token_account_balance(&associated_token_address(user, &mint))
                .await
                .unwrap()
                .amount
                .parse::<u64>()
                .unwrap()
        };
        (amount(self.sol).await, amount(self.jup).await)
    }
}

fn balances(app: &App) -> Balances {
    let url = app.sandbox().service("solana").unwrap().url();
    Balances {
        rpc: RpcClient::new_with_commitment(url, CommitmentConfig::confirmed()),
        sol: Pubkey::from_str(SOL).unwrap(),
        jup: Pubkey::from_str(JUP).unwrap(),
    }
}

fn amount(v: &Value, key: &str) -> u64 {
    v[key].as_str().unwrap().parse().unwrap()
}

/// Quote SOL → JUP at `quote_path`, ask `instructions_path` for the instructions, land them.
async fn swap_through(app: &App, service: &str, quote_path: &str, instructions_path: &str) {
    let user = app.world().users()[0].insecure_clone();
    let b = balances(app);
    let before = b.of(&user.pubkey()).await;
    let q =
        format!("{quote_path}?inputMint={SOL}&outputMint={JUP}&amount=2000000000&slippageBps=50");
    let quote = call(app, service, &q, None).await.json();
    let body = json!({"quoteResponse": quote, "userPublicKey": user.pubkey().to_string()});
    let answer = call(app, service, instructions_path, Some(&body))
        .await
        .json();
    let ixs = instructions(&answer);
    let alt = table(&app.world().chain().lock());
    let blockhash = b.rpc.get_latest_blockhash().await.unwrap();
    let tx = v0_tx(&user, &ixs, &[alt], blockhash);
    b.rpc.send_and_confirm_transaction(&tx).await.unwrap();
    let after = b.of(&user.pubkey()).await;
    assert_eq!(
        before.0 - after.0,
        amount(&quote, "inAmount"),
        "{service}: SOL paid as quoted"
    );
    assert_eq!(
        after.1 - before.1,
        amount(&quote, "outAmount"),
        "{service}: JUP received as quoted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jupiter_and_dflow_instructions_land_and_move_the_quoted_amounts() {
    let app = App::start(SimConfig::all_services()).unwrap();
    swap_through(
        &app,
        "jupiter",
        "/swap/v1/quote",
        "/swap/v1/swap-instructions",
    )
    .await;
    swap_through(&app, "dflow", "/quote", "/swap-instructions").await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ultra_order_signed_by_its_taker_lands_through_execute() {
    let app = App::start(SimConfig::all_services()).unwrap();
    let user = app.world().users()[1].insecure_clone();
    let b = balances(&app);
    let before = b.of(&user.pubkey()).await;
    let path = format!(
        "/ultra/v1/order?inputMint={SOL}&outputMint={JUP}&amount=1000000000&taker={}",
        user.pubkey()
    );
    let order = call(&app, "ultra", &path, None).await.json();
    let unsigned: VersionedTransaction = bincode::deserialize(
        &BASE64
            .decode(order["transaction"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let signed = VersionedTransaction::try_new(unsigned.message, &[&user]).unwrap();
    let body = json!({
        "signedTransaction": BASE64.encode(bincode::serialize(&signed).unwrap()),
        "requestId": order["requestId"],
    });
    let done = call(&app, "ultra", "/ultra/v1/execute", Some(&body))
        .await
        .json();
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["signature"], signed.signatures[0].to_string());

    let after = b.of(&user.pubkey()).await;
    assert_eq!(before.0 - after.0, amount(&order, "inAmount"));
    assert_eq!(after.1 - before.1, amount(&order, "outAmount"));
    let chain = app.world().chain().lock();
    let landed = chain.transaction(&signed.signatures[0]).expect("on chain");
    assert_eq!(landed.origin.via, Via::Aggregator);
    assert!(landed.is_ok());
    drop(chain);
    app.shutdown().await;
}
