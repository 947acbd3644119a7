//! Tag predicates of `SHOW SERIES … WHERE`, `DROP SERIES WHERE` and query
//! `WHERE` clauses on tags, evaluated against one series' tags. A missing
//! tag compares as the empty string (InfluxDB semantics). Owns evaluation
//! only; the index decides which series to test.

/// A boolean expression over the tags of a series.
#[derive(Debug, Clone)]
pub enum TagPredicate {
    True,
    Eq(String, String),
    NotEq(String, String),
    Regex(String, regex::Regex),
    NotRegex(String, regex::Regex),
    And(Box<TagPredicate>, Box<TagPredicate>),
    Or(Box<TagPredicate>, Box<TagPredicate>),
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> &'a str {
    match tags.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
        Ok(i) => &tags[i].1,
        Err(_) => "",
    }
}

impl TagPredicate {
    /// Whether a series with these tags (sorted by key) satisfies the predicate.
    pub fn matches(&self, tags: &[(String, String)]) -> bool {
        match self {
            TagPredicate::True => true,
            TagPredicate::Eq(k, v) => tag(tags, k) == v,
            TagPredicate::NotEq(k, v) => tag(tags, k) != v,
            TagPredicate::Regex(k, re) => re.is_match(tag(tags, k)),
            TagPredicate::NotRegex(k, re) => !re.is_match(tag(tags, k)),
            TagPredicate::And(a, b) => a.matches(tags) && b.matches(tags),
            TagPredicate::Or(a, b) => a.matches(tags) || b.matches(tags),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tags_compare_as_empty() {
        let tags = vec![
            ("host".to_string(), "a".to_string()),
            ("region".to_string(), "west".to_string()),
        ];
        assert!(TagPredicate::Eq("host".into(), "a".into()).matches(&tags));
        assert!(TagPredicate::Eq("dc".into(), "".into()).matches(&tags));
        assert!(!TagPredicate::NotEq("dc".into(), "".into()).matches(&tags));
        let re = regex::Regex::new("^w").unwrap();
        assert!(TagPredicate::Regex("region".into(), re.clone()).matches(&tags));
        assert!(TagPredicate::NotRegex("host".into(), re).matches(&tags));
        let and = TagPredicate::And(
            Box::new(TagPredicate::Eq("host".into(), "a".into())),
            Box::new(TagPredicate::Eq("region".into(), "east".into())),
        );
        assert!(!and.matches(&tags));
        let or = TagPredicate::Or(Box::new(and), Box::new(TagPredicate::True));
        assert!(or.matches(&tags));
    }
}
