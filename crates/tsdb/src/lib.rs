//! tsdb: placeholder, see ARCHITECTURE.md.
