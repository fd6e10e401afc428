//! Circuit breakers: a sans-IO state machine per protected dependency, an async wrapper with a
//! per-call timeout and fallback, and a registry keyed by name.
