//! Tally's query language: parses the SQL-like language with nom, plans it against the engine's
//! tag index and tiers, and executes it. The language lands with issue 4; until then this crate
//! only names its job so the workspace layout is fixed.
