//! Path prefixes and endpoint matching shared by the three services.

/// Checks a service's path prefixes: at least one; each empty (the root) or starting with `/`
/// and not ending with one.
pub(crate) fn validate_prefixes(prefixes: &[String]) -> Result<(), String> {
    if prefixes.is_empty() {
        return Err("prefixes: at least one is needed (\"\" serves at the root)".into());
    }
    for (i, p) in prefixes.iter().enumerate() {
        if !p.is_empty() && (!p.starts_with('/') || p.ends_with('/')) {
            return Err(format!(
                "prefixes[{i}] = {p:?} must be \"\" or start with '/' and not end with one"
            ));
        }
        if p.contains(['?', '#']) {
            return Err(format!("prefixes[{i}] = {p:?} must be a plain path"));
        }
    }
    Ok(())
}

/// The endpoint `path` names under one of `prefixes`, from `table` (`"/quote"` → `E`).
pub(crate) fn find<E: Copy>(prefixes: &[String], path: &str, table: &[(&str, E)]) -> Option<E> {
    prefixes.iter().find_map(|p| {
        let rest = path.strip_prefix(p.as_str())?;
        table
            .iter()
            .find(|(name, _)| *name == rest)
            .map(|(_, e)| *e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = vec!["/swap/v1".to_owned(), String::new()];
        let table = [("/quote", 1), ("/swap", 2)];
        assert_eq!(find(&p, "/swap/v1/quote", &table), Some(1));
        assert_eq!(find(&p, "/quote", &table), Some(1));
        assert_eq!(find(&p, "/swap", &table), Some(2));
        assert_eq!(find(&p, "/swap/v1/swap", &table), Some(2));
        assert_eq!(find(&p, "/swap/v2/quote", &table), None);
        assert!(validate_prefixes(&p).is_ok());
        assert!(validate_prefixes(&[]).is_err());
        assert!(validate_prefixes(&["swap".into()]).is_err());
        assert!(validate_prefixes(&["/swap/".into()]).is_err());
    }
}
