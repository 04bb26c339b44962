//! Free-text fields: trimmed, bounded, free of control characters and of
//! invisible characters that change how text reads.

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
    // Bidirectional controls can make a name or title display as
    // something else (a reversed phone number, a hidden word), and
    // zero-width characters make two names that look the same differ:
    // nobody types either on purpose.
    if text.chars().any(is_invisible_format) {
        return Err("含有不可见的文字方向控制符或零宽字符".into());
    }
    Ok(())
}

/// Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069) and zero-width characters (U+200B–U+200D, U+2060,
/// U+FEFF).
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
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

    #[test]
    fn refuses_bidi_controls_and_zero_width_characters() {
        let refused = [
            '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{202A}',
            '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2060}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{FEFF}',
        ];
        for c in refused {
            assert!(clean(&format!("王{c}阿姨"), 10).is_err(), "{:X}", c as u32);
            assert!(clean_optional(Some(&format!("{c}备注")), 10).is_err());
            // At either end too: trimming must not hide them.
            assert!(clean(&format!("{c}王阿姨"), 10).is_err());
        }
        // Neighbours of the refused ranges stay allowed.
        for ok in ['\u{2010}', '\u{2065}', '\u{206A}', '\u{3000}', 'é', '·'] {
            assert!(clean(&format!("王{ok}阿姨"), 10).is_ok(), "{:X}", ok as u32);
        }
    }
}
