//! meta: placeholder, see ARCHITECTURE.md.
