//! Retry: policies with backoff and jitter, presets, a retry budget so retries cannot storm a
//! failing provider, classifiers, and an async retry loop.
