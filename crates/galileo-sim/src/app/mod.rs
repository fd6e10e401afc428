//! The simulator as one application: a [`World`] and the services the [`SimConfig`] enables,
//! started together. The `galileo-sim` binary is a thin shell over [`App::start`]; tests and
//! benches can start the same thing in process.

mod config;
mod state;

pub use config::{Services, SimConfig};
pub use state::{Endpoint, write_state};

use tokio::time::Instant;

use crate::aggregators::{
    DflowKnobs, DflowService, JupiterKnobs, JupiterService, UltraKnobs, UltraService,
};
use crate::error::SimError;
use crate::jito::JitoBlockEngine;
use crate::sandbox::Sandbox;
use crate::solana::SolanaRpc;
use crate::titan::{TitanHandle, TitanService};
use crate::world::World;

/// A running simulator.
#[derive(Debug)]
pub struct App {
    world: World,
    sandbox: Sandbox,
    titan: Option<TitanHandle>,
    jupiter: Option<JupiterKnobs>,
    ultra: Option<UltraKnobs>,
    dflow: Option<DflowKnobs>,
}

impl App {
    /// Builds the world and starts every enabled service (on the current Tokio runtime).
    pub fn start(config: SimConfig) -> Result<App, SimError> {
        let world = World::new(config.world(), Instant::now())?;
        let mut builder = Sandbox::builder().seed(config.seed.unwrap_or_default());
        let services = &config.services;
        if let Some(sc) = &services.solana {
            let svc = SolanaRpc::new(world.chain().clone(), config.solana.clone());
            builder = builder.service(svc, sc.clone());
        }
        if let Some(sc) = &services.solana_staked {
            let svc =
                SolanaRpc::new(world.chain().clone(), config.solana.clone()).named("solana_staked");
            builder = builder.service(svc, sc.clone());
        }
        config.jito.validate()?;
        if let Some(sc) = &services.jito {
            let svc = JitoBlockEngine::new(world.chain().clone(), config.jito.clone());
            builder = builder.service(svc, sc.clone());
        }
        let mut titan = None;
        if let Some(sc) = &services.titan {
            let svc =
                TitanService::new(config.titan.clone(), world.market().clone(), world.ledger())?;
            titan = Some(svc.handle());
            builder = builder.service(svc, sc.clone());
        }
        let (mut jupiter, mut ultra, mut dflow) = (None, None, None);
        if let Some(sc) = &services.jupiter {
            let svc = JupiterService::new(
                config.jupiter.clone(),
                world.market().clone(),
                world.ledger(),
            )?;
            jupiter = Some(svc.knobs());
            builder = builder.service(svc, sc.clone());
        }
        if let Some(sc) = &services.ultra {
            let svc =
                UltraService::new(config.ultra.clone(), world.market().clone(), world.ledger())?;
            ultra = Some(svc.knobs());
            builder = builder.service(svc, sc.clone());
        }
        if let Some(sc) = &services.dflow {
            let svc =
                DflowService::new(config.dflow.clone(), world.market().clone(), world.ledger())?;
            dflow = Some(svc.knobs());
            builder = builder.service(svc, sc.clone());
        }
        let sandbox = builder.start()?;
        Ok(App {
            world,
            sandbox,
            titan,
            jupiter,
            ultra,
            dflow,
        })
    }

    /// The market and the chain.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The running services.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Titan's record and knobs, when it runs.
    pub fn titan(&self) -> Option<&TitanHandle> {
        self.titan.as_ref()
    }

    /// Jupiter's switches and record, when it runs.
    pub fn jupiter(&self) -> Option<&JupiterKnobs> {
        self.jupiter.as_ref()
    }

    /// Ultra's switches and record, when it runs.
    pub fn ultra(&self) -> Option<&UltraKnobs> {
        self.ultra.as_ref()
    }

    /// DFlow's switches and record, when it runs.
    pub fn dflow(&self) -> Option<&DflowKnobs> {
        self.dflow.as_ref()
    }

    /// Where each service listens.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.sandbox.services().iter().map(Endpoint::of).collect()
    }

    /// Stops every service and waits for their tasks.
    pub async fn shutdown(self) {
        self.sandbox.shutdown().await;
    }
}
