//! [`Sandbox`]: a set of simulated services started in process, each on its own address, with
//! one certificate authority. Stops every service when dropped.

use std::collections::HashSet;

use crate::config::ServiceConfig;
use crate::server::{RunningService, serve};
use crate::tls::Ca;
use crate::{Controls, Service, SimError};

/// What a service is started with.
struct StartCx<'a> {
    ca: &'a Ca,
    seed: u64,
}

/// Starts one service (boxed once, at wiring time).
type Starter = Box<dyn FnOnce(&StartCx<'_>) -> Result<RunningService, SimError> + Send>;

/// Collects the services of a [`Sandbox`]; [`SandboxBuilder::start`] starts them.
#[must_use]
pub struct SandboxBuilder {
    seed: u64,
    starters: Vec<Starter>,
}

impl std::fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("seed", &self.seed)
            .field("services", &self.starters.len())
            .finish()
    }
}

impl SandboxBuilder {
    /// The seed of every random draw (latency, faults, market): the same seed and the same
    /// requests give the same answers.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Adds any [`Service`], configured by `cfg`.
    pub fn service<S: Service>(mut self, service: S, cfg: ServiceConfig) -> Self {
        self.starters
            .push(Box::new(move |cx| serve(service, &cfg, cx.ca, cx.seed)));
        self
    }

    /// Starts every service. Must be called within a Tokio runtime; on an error, the services
    /// already started are stopped.
    pub fn start(self) -> Result<Sandbox, SimError> {
        let ca = Ca::new()?;
        let cx = StartCx {
            ca: &ca,
            seed: self.seed,
        };
        let mut services: Vec<RunningService> = Vec::with_capacity(self.starters.len());
        let mut names = HashSet::new();
        for start in self.starters {
            let svc = start(&cx)?;
            if !names.insert(svc.name()) {
                return Err(SimError::config(
                    svc.name(),
                    "the service is added twice; a sandbox runs one of each",
                ));
            }
            services.push(svc);
        }
        Ok(Sandbox { ca, services })
    }
}

/// Running simulated services.
///
/// ```no_run
/// # async fn demo() -> Result<(), galileo_sim::SimError> {
/// use galileo_sim::{Sandbox, ServiceConfig};
/// # struct Echo;
/// # impl galileo_sim::Service for Echo {
/// #     fn name(&self) -> &'static str { "echo" }
/// #     async fn handle(&self, r: http::Request<bytes::Bytes>, _: galileo_sim::RequestContext)
/// #         -> http::Response<galileo_sim::SimBody> {
/// #         http::Response::new(galileo_sim::SimBody::full(r.into_body()))
/// #     }
/// # }
/// let sandbox = Sandbox::builder()
///     .seed(7)
///     .service(Echo, ServiceConfig { bind: "127.0.0.10".parse().unwrap(), ..Default::default() })
///     .start()?;
/// println!("echo at {}", sandbox.service("echo")?.url());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sandbox {
    ca: Ca,
    services: Vec<RunningService>,
}

impl Sandbox {
    /// A builder with seed 0 and no services.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            seed: 0,
            starters: Vec::new(),
        }
    }

    /// The certificate authority every TLS service's certificate chains to.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// Every running service.
    pub fn services(&self) -> &[RunningService] {
        &self.services
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Result<&RunningService, SimError> {
        self.services
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| SimError::UnknownService(name.to_owned()))
    }

    /// The knobs of the service named `name`.
    pub fn controls(&self, name: &str) -> Result<&Controls, SimError> {
        self.service(name).map(RunningService::controls)
    }

    /// Stops every service and waits until all their connections are closed.
    pub async fn shutdown(self) {
        for s in self.services {
            s.shutdown().await;
        }
    }
}
