//! server: placeholder, see ARCHITECTURE.md.
