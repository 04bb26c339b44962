//! Free-text fields: trimmed, bounded, free of control characters.

/// Returns the trimmed text or why it is refused. Chinese text is counted
/// in characters, not bytes.
pub fn clean(raw: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("不能为空".into());
    }
    check_optional(trimmed, max_chars)?;
    Ok(trimmed.to_string())
}

/// Like [`clean`] but an empty value is allowed (and becomes `None`).
pub fn clean_optional(raw: Option<&str>, max_chars: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => check_optional(text, max_chars).map(|()| Some(text.to_string())),
    }
}

fn check_optional(text: &str, max_chars: usize) -> Result<(), String> {
    if text.chars().count() > max_chars {
        return Err(format!("不能超过 {max_chars} 个字符"));
    }
    // Line breaks are fine in descriptions; other control characters are
    // never typed by a person and break CSV exports and group chats.
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("含有不可见的控制字符".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds_in_characters() {
        assert_eq!(clean("  王阿姨  ", 10).unwrap(), "王阿姨");
        assert!(clean("   ", 10).is_err());
        assert!(clean(&"老".repeat(11), 10).is_err());
        assert!(clean(&"老".repeat(10), 10).is_ok());
        assert!(clean("a\u{0}b", 10).is_err());
        assert_eq!(clean_optional(Some(" "), 5).unwrap(), None);
        assert_eq!(
            clean_optional(Some("第一行\n第二行"), 10)
                .unwrap()
                .as_deref(),
            Some("第一行\n第二行")
        );
    }
}
