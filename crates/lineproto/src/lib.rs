//! InfluxDB 1.x line protocol: parsing (zero-copy and owned) and rendering.
//!
//! This crate owns the wire grammar of `/write` bodies and nothing else: it
//! does no I/O, holds no state and knows nothing of storage (except the
//! documented `time`-key rule in [`reserved`], which callers apply).
//!
//! # Public API
//! - Zero-copy: [`lines`]`(body) -> `[`LineIter`], an iterator of
//!   `Result<`[`Line`]`<'a>, `[`LineError`]`>`, one per non-blank,
//!   non-comment line. [`Line`] holds escaped slices (measurement, sorted tags,
//!   fields with parsed numbers and raw strings) and the raw timestamp.
//!   [`parse_line`] parses a single line.
//! - Unescaping: [`unescape_measurement`], [`unescape_tag`] (tag keys and
//!   values), [`unescape_field_key`], [`unescape_string`] (string field content), all
//!   returning `Cow<str>`; and the matching `escape_*_into` functions.
//! - Owned: [`parse_points`]`(body, precision, now_nanos) -> `[`ParsedPoints`]
//!   `{ points, errors }`, [`to_point`], [`scale_timestamp`].
//! - Rendering: [`to_line`]`(&Point) -> String`, [`write_line`].
//! - Errors: [`LineError`] (`Display` = `unable to parse '<line>': <reason>`,
//!   exactly as InfluxDB 1.6) with [`ErrorKind`] as the reason.
//!
//! # Differences from InfluxDB 1.6 (deliberate)
//! - Unsigned integers (`1u`) are accepted; 1.6 rejects them (`invalid number`)
//!   unless uint support is compiled in.
//! - A `\r` before `\n` is stripped; 1.6 reports `bad timestamp` or
//!   `invalid number`.
//! - Invalid UTF-8 is rejected per line (`invalid UTF-8`); 1.6 stores bytes.
//! - Point tags are sorted by *unescaped* key (as `models::series_key`
//!   requires); 1.6 sorts by escaped key. They differ only for keys with
//!   backslash escapes.

mod error;
mod escape;
#[doc(hidden)]
pub mod fuzzing;
mod line;
mod number;
mod points;
mod render;
pub mod reserved;
mod split;

pub use error::{ErrorKind, LineError, Result};
pub use escape::{
    escape_measurement_into, escape_string_into, escape_tag_into, unescape_field_key,
    unescape_measurement, unescape_string, unescape_tag,
};
pub use line::{parse_line, FieldValueRef, Line, INLINE, MAX_KEY_LENGTH};
pub use points::{parse_points, scale_timestamp, to_point, ParsedPoints, MAX_REPORTED_LINE_ERRORS};
pub use render::{to_line, write_line};
pub use split::{lines, LineIter};

#[cfg(test)]
mod tests;
