//! influxql: placeholder, see ARCHITECTURE.md.
