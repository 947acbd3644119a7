//! lineproto: placeholder, see ARCHITECTURE.md.
