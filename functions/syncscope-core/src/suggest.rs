//! "Did you mean": the closest known word to a misspelt key or value.

/// The known word closest to `input`, if it is close enough to be a plausible typo.
///
/// Comparison ignores case and `_`/`-`, so `group_filters` suggests `GroupFilters`.
pub fn closest<'a>(input: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = norm(input);
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&wanted, &norm(k)), *k))
        .filter(|(distance, k)| {
            // Allow roughly one edit per four characters, and at least two.
            let budget = (k.chars().count() / 4).max(2);
            *distance <= budget
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_plural_for_a_missing_s() {
        assert_eq!(
            closest("GroupFilter", &["GroupFilters", "UserFilters"]),
            Some("GroupFilters")
        );
    }

    #[test]
    fn ignores_case_and_separators() {
        assert_eq!(
            closest("s3_dokubucket", &["s3_DOKUBUCKET", "stage"]),
            Some("s3_DOKUBUCKET")
        );
        assert_eq!(
            closest("group-filters", &["GroupFilters"]),
            Some("GroupFilters")
        );
    }

    #[test]
    fn suggests_nothing_for_an_unrelated_word() {
        assert_eq!(
            closest("colour", &["GroupFilters", "UserFilters", "Mode"]),
            None
        );
    }
}
