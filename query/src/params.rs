//! Parameters of saved queries: the `$name`s a statement uses and their declared types.
