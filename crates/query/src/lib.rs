//! query: placeholder, see ARCHITECTURE.md.
