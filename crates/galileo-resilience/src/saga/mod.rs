//! Sagas: steps that execute and compensate, run in order and compensated in reverse on failure,
//! with a durable step log so a crashed process compensates on restart.
