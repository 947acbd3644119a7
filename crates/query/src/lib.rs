//! InfluxQL execution. See ARCHITECTURE.md.

pub mod result;
