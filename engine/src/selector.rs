//! Which series a read wants: a measurement and predicates on its tags.

use regex::Regex;

/// One condition on a tag. A series without the tag has the empty string as its value, as in
/// InfluxQL, so `Ne { key, value: "" }` selects the series that have the tag.
#[derive(Debug, Clone)]
pub enum TagPredicate {
    /// `key = value`
    Eq {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
    /// `key != value`
    Ne {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
    /// `key IN (values...)`
    In {
        /// Tag key.
        key: String,
        /// Accepted values.
        values: Vec<String>,
    },
    /// `key NOT IN (values...)`
    NotIn {
        /// Tag key.
        key: String,
        /// Refused values.
        values: Vec<String>,
    },
    /// `key =~ /regex/` (unanchored, as in InfluxQL).
    Regex {
        /// Tag key.
        key: String,
        /// Pattern.
        regex: Regex,
    },
    /// `key !~ /regex/`
    NotRegex {
        /// Tag key.
        key: String,
        /// Pattern.
        regex: Regex,
    },
}

impl TagPredicate {
    /// The tag key the predicate looks at.
    pub fn key(&self) -> &str {
        match self {
            TagPredicate::Eq { key, .. }
            | TagPredicate::Ne { key, .. }
            | TagPredicate::In { key, .. }
            | TagPredicate::NotIn { key, .. }
            | TagPredicate::Regex { key, .. }
            | TagPredicate::NotRegex { key, .. } => key,
        }
    }

    /// Whether a series whose tag value is `value` (empty if absent) matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            TagPredicate::Eq { value: v, .. } => value == v,
            TagPredicate::Ne { value: v, .. } => value != v,
            TagPredicate::In { values, .. } => values.iter().any(|v| v == value),
            TagPredicate::NotIn { values, .. } => !values.iter().any(|v| v == value),
            TagPredicate::Regex { regex, .. } => regex.is_match(value),
            TagPredicate::NotRegex { regex, .. } => !regex.is_match(value),
        }
    }
}

/// A measurement and tag predicates that must all hold (AND).
#[derive(Debug, Clone)]
pub struct Selector {
    /// The measurement.
    pub measurement: String,
    /// Predicates, all of which must hold.
    pub predicates: Vec<TagPredicate>,
}

impl Selector {
    /// Every series of `measurement`.
    pub fn measurement(measurement: impl Into<String>) -> Self {
        Selector {
            measurement: measurement.into(),
            predicates: Vec::new(),
        }
    }

    /// Adds a predicate.
    pub fn with(mut self, p: TagPredicate) -> Self {
        self.predicates.push(p);
        self
    }
}
