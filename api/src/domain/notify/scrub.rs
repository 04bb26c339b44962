//! A last line of defence for residents' privacy: masks anything in an
//! outgoing message that looks like a mainland mobile, a landline or a
//! 居民身份证 number, in case a caller put one in by mistake. And the same
//! for robots' keys: webhook URLs carry them (WeCom `?key=`, DingTalk
//! `?access_token=`, Feishu's path `/open-apis/bot/v2/hook/<token>`), so
//! a URL is masked wherever it may be shown or written down.

use serde_json::Value;

use crate::domain::phone::mask_phone;

/// Masks mobiles (`1[3-9]` + 9 digits, optionally after `86`), landlines
/// written `0xx(x)-xxxxxxx(x)` and 15/18-character ID numbers. A number
/// only counts when it stands alone: digits glued to ASCII letters (as in
/// a UUID or a hex key) are left as they are.
pub fn scrub_personal_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_run =
            chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if !starts_run {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let end = digit_run_end(&chars, i);
        let run: String = chars[i..end].iter().collect();
        let free_after = |at: usize| at >= chars.len() || !chars[at].is_ascii_alphanumeric();

        // 17 digits and a check character X.
        if run.len() == 17 && matches!(chars.get(end), Some('X' | 'x')) && free_after(end + 1) {
            out.push_str(&"*".repeat(18));
            i = end + 1;
            continue;
        }
        if !free_after(end) {
            out.push_str(&run);
            i = end;
            continue;
        }
        if let Some(masked) = mask_run(&run) {
            out.push_str(&masked);
            i = end;
            continue;
        }
        // Landline: area code, hyphen, 7 or 8 digits.
        if (3..=4).contains(&run.len()) && run.starts_with('0') && chars.get(end) == Some(&'-') {
            let local_end = digit_run_end(&chars, end + 1);
            if (7..=8).contains(&(local_end - end - 1)) && free_after(local_end) {
                let local: String = chars[end + 1..local_end].iter().collect();
                out.push_str(&run);
                out.push('-');
                out.push_str(&mask_middle(&local));
                i = local_end;
                continue;
            }
        }
        out.push_str(&run);
        i = end;
    }
    out
}

fn digit_run_end(chars: &[char], from: usize) -> usize {
    let mut end = from;
    while end < chars.len() && chars[end].is_ascii_digit() {
        end += 1;
    }
    end
}

/// `62345678` → `62****78`.
fn mask_middle(digits: &str) -> String {
    let n = digits.len();
    format!("{}{}{}", &digits[..2], "*".repeat(n - 4), &digits[n - 2..])
}

fn is_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

fn mask_run(run: &str) -> Option<String> {
    match run.len() {
        15 | 18 => Some("*".repeat(run.len())),
        11 if is_mobile(run) => Some(mask_phone(run)),
        13 if run.starts_with("86") && is_mobile(&run[2..]) => {
            Some(format!("86{}", mask_phone(&run[2..])))
        }
        _ => None,
    }
}

/// [`scrub_personal_numbers`] applied to every string inside a JSON value.
pub fn scrub_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(scrub_personal_numbers(s)),
        Value::Array(items) => Value::Array(items.iter().map(scrub_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), scrub_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The path segment that names a robot in Feishu's (and Lark's) webhook
/// URLs: what follows it is the robot's token.
const HOOK_SEGMENT: &str = "hook";

/// A secret shown by its last four characters at most: enough to tell
/// two robots apart, too little to use.
fn mask_secret(value: &str) -> String {
    let n = value.chars().count();
    if n > 8 {
        let tail: String = value.chars().skip(n - 4).collect();
        format!("****{tail}")
    } else {
        "****".into()
    }
}

/// A webhook URL fit to show: user and password dropped, every query
/// value and the token after a `/hook/` path segment masked to its last
/// four characters. Something that is not a URL is masked whole.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "****".into();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let segments: Option<Vec<String>> = url
        .path_segments()
        .map(|segments| segments.map(str::to_string).collect());
    if let Some(segments) = segments {
        let mut after_hook = false;
        let masked: Vec<String> = segments
            .into_iter()
            .map(|segment| {
                let shown = if after_hook && !segment.is_empty() {
                    mask_secret(&segment)
                } else {
                    segment.clone()
                };
                after_hook = segment == HOOK_SEGMENT;
                shown
            })
            .collect();
        url.set_path(&masked.join("/"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), mask_secret(&v)))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    url.to_string().replace("%2A", "*")
}

/// [`mask_url`] applied to every `http://` or `https://` URL inside free
/// text, such as an error message from the HTTP client.
pub fn mask_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let start = match (rest.find("http://"), rest.find("https://")) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        out.push_str(&mask_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn robot_keys_in_urls_are_masked() {
        assert_eq!(
            mask_url(
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
            ),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****5aaa"
        );
        assert_eq!(
            mask_url("https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789"),
            "https://oapi.dingtalk.com/robot/send?access_token=****6789"
        );
        assert_eq!(
            mask_url(
                "https://open.feishu.cn/open-apis/bot/v2/hook/2e4f8a1c-1234-5678-9abc-def012345678"
            ),
            "https://open.feishu.cn/open-apis/bot/v2/hook/****5678"
        );
        assert_eq!(
            mask_url("https://user:pass@example.com/hooks?token=short#frag"),
            "https://example.com/hooks?token=****"
        );
        assert_eq!(
            mask_url("https://example.com/plain"),
            "https://example.com/plain"
        );
        assert_eq!(mask_url("not a url"), "****");
    }

    #[test]
    fn urls_inside_text_are_masked_and_the_rest_kept() {
        let text = "error sending request for url (http://127.0.0.1:9/open-apis/bot/v2/hook/secret-token-1234): connection refused; also https://x.test/s?key=robot-key-abcd";
        let masked = mask_urls_in(text);
        assert!(!masked.contains("secret-token"), "{masked}");
        assert!(!masked.contains("robot-key"), "{masked}");
        assert!(
            masked.starts_with(
                "error sending request for url (http://127.0.0.1:9/open-apis/bot/v2/hook/****1234)"
            ),
            "{masked}"
        );
        assert!(
            masked.ends_with("https://x.test/s?key=****abcd"),
            "{masked}"
        );
        assert_eq!(mask_urls_in("no url here"), "no url here");
    }

    #[test]
    fn masks_mobiles_landlines_and_id_numbers() {
        assert_eq!(scrub_personal_numbers("联系13812345678"), "联系138****5678");
        assert_eq!(scrub_personal_numbers("+86 13812345678"), "+86 138****5678");
        assert_eq!(scrub_personal_numbers("+8613812345678"), "+86138****5678");
        assert_eq!(
            scrub_personal_numbers("电话 010-62345678。"),
            "电话 010-62****78。"
        );
        assert_eq!(scrub_personal_numbers("0571-8765432"), "0571-87***32");
        assert_eq!(
            scrub_personal_numbers("身份证11010519491231002X号"),
            "身份证******************号"
        );
        assert_eq!(
            scrub_personal_numbers("110105194912310021"),
            "******************"
        );
        assert_eq!(scrub_personal_numbers("110105491231002"), "***************");
    }

    #[test]
    fn leaves_ordinary_numbers_and_identifiers_alone() {
        for keep in [
            "2024-05-18 09:00–11:00",
            "还差 2 人",
            "138****5678",
            "a13812345678",
            "550e8400-e29b-41d4-a716-446655440000",
            "id 12812345678",
            "编号 123456789012",
            "1381234567",
        ] {
            assert_eq!(scrub_personal_numbers(keep), keep);
        }
    }

    #[test]
    fn scrubs_strings_inside_json_but_not_numbers_or_keys() {
        let data = json!({"13812345678": 13812345678u64, "note": ["call 13812345678"], "n": 1});
        assert_eq!(
            scrub_json(&data),
            json!({"13812345678": 13812345678u64, "note": ["call 138****5678"], "n": 1})
        );
    }
}
