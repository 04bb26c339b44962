//! The Chinese wording of an event for group chats: plain text for every
//! robot and a markdown variant for WeCom, within each one's size limits.

use super::message::{EventMessage, one_line, time_window};
use super::scrub::scrub_personal_numbers;

/// Present in every robot message, so a DingTalk or Feishu robot guarded
/// by a keyword can be set up with this word.
pub const KEYWORD: &str = "志愿服务";

/// WeCom: text content at most 2048 bytes, markdown at most 4096 (UTF-8).
pub const WECOM_TEXT_MAX_BYTES: usize = 2048;
pub const WECOM_MARKDOWN_MAX_BYTES: usize = 4096;
/// DingTalk and Feishu text: well under their request limits (Feishu
/// 20 KB a request) and still a readable chat message.
pub const ROBOT_TEXT_MAX_BYTES: usize = 4096;

// Per-field bounds, in characters, so one long field cannot push the
// time, place and contact out of a truncated message.
const TITLE_MAX: usize = 80;
const PLACE_MAX: usize = 40;
const TEAM_MAX: usize = 40;
const CONTACT_MAX: usize = 60;
const DETAIL_MAX: usize = 200;

/// A field as it may appear in a message: one line, bounded, and with any
/// stray personal number masked.
fn field(raw: &str, max_chars: usize) -> String {
    one_line(&scrub_personal_numbers(raw), max_chars)
}

/// The facts of a message as (label, value) lines, in reading order: a
/// request's title, time, place and team, or the message's own facts.
fn lines(msg: &EventMessage) -> Vec<(String, String)> {
    if !msg.facts.is_empty() {
        return msg
            .facts
            .iter()
            .map(|(label, value)| (field(label, TEAM_MAX), field(value, DETAIL_MAX)))
            .collect();
    }
    let mut lines = vec![
        ("求助".to_string(), field(&msg.request_title, TITLE_MAX)),
        ("时间".to_string(), time_window(msg.starts_at, msg.ends_at)),
        ("地点".to_string(), field(&msg.place, PLACE_MAX)),
        (
            "服务队".to_string(),
            msg.team_name
                .as_deref()
                .map_or_else(|| "尚未分派".to_string(), |t| field(t, TEAM_MAX)),
        ),
    ];
    if let Some(contact) = msg.contact.as_deref().filter(|c| !c.trim().is_empty()) {
        lines.push(("联系人".to_string(), field(contact, CONTACT_MAX)));
    }
    if let Some(detail) = msg.detail.as_deref().filter(|d| !d.trim().is_empty()) {
        lines.push(("说明".to_string(), field(detail, DETAIL_MAX)));
    }
    lines
}

/// Plain text for a group chat, e.g.
///
/// ```text
/// 【志愿服务】新的求助
/// 求助：陪同王**去社区医院复诊
/// 时间：2024-05-18 09:00–11:00
/// 地点：幸福里社区
/// 服务队：尚未分派
/// 联系人：社工 李** 138****5678
/// ```
pub fn render_text(msg: &EventMessage, max_bytes: usize) -> String {
    let mut text = format!("【{KEYWORD}】{}", msg.event.label());
    for (label, value) in lines(msg) {
        text.push('\n');
        text.push_str(&label);
        text.push('：');
        text.push_str(&value);
    }
    truncate_bytes(&text, max_bytes)
}

/// WeCom markdown: a heading, the title in bold, the facts as a quote.
pub fn render_markdown(msg: &EventMessage, max_bytes: usize) -> String {
    let mut text = format!("### 【{KEYWORD}】{}", msg.event.label());
    let mut facts = lines(msg).into_iter();
    if let Some((_, title)) = facts.next() {
        text.push_str(&format!("\n**{}**", markdown_escape(&title)));
    }
    for (label, value) in facts {
        text.push_str(&format!("\n> {label}：{}", markdown_escape(&value)));
    }
    truncate_bytes(&text, max_bytes)
}

/// Neutralises the markdown WeCom understands by swapping in full-width
/// look-alikes: masked names such as `王**` would otherwise turn bold, and
/// a title could smuggle in a link or a `<font>` tag.
pub fn markdown_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '*' => '＊',
            '`' => '｀',
            '[' => '［',
            ']' => '］',
            '<' => '＜',
            '>' => '＞',
            '#' => '＃',
            other => other,
        })
        .collect()
}

/// At most `max_bytes` bytes of UTF-8, cut on a character boundary; a cut
/// text ends in `…` (counted in the limit).
pub fn truncate_bytes(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let budget = max_bytes.saturating_sub('…'.len_utf8());
    let mut cut = budget.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = text[..cut].to_string();
    if max_bytes >= '…'.len_utf8() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notify::test_support::sample;
    use crate::domain::vocab::EventType;

    #[test]
    fn text_names_event_title_window_place_team_and_contact() {
        let text = render_text(&sample(EventType::RequestAssigned), WECOM_TEXT_MAX_BYTES);
        assert_eq!(
            text,
            "【志愿服务】求助已分派\n\
             求助：陪同王**去社区医院复诊\n\
             时间：2024-05-18 09:00–11:00\n\
             地点：幸福里社区\n\
             服务队：学雷锋志愿服务队\n\
             联系人：社工 李** 138****5678\n\
             说明：请队长确认人手"
        );
    }

    #[test]
    fn unassigned_requests_say_so_and_empty_lines_are_left_out() {
        let mut msg = sample(EventType::RequestCreated);
        msg.team_name = None;
        msg.contact = Some("  ".into());
        msg.detail = None;
        let text = render_text(&msg, WECOM_TEXT_MAX_BYTES);
        assert!(text.contains("服务队：尚未分派"));
        assert!(!text.contains("联系人"));
        assert!(!text.contains("说明"));
    }

    #[test]
    fn markdown_escapes_masks_and_injected_markup() {
        let mut msg = sample(EventType::SignupCreated);
        msg.request_title = "[点我](http://evil.example) <font color=\"warning\">急</font>".into();
        let md = render_markdown(&msg, WECOM_MARKDOWN_MAX_BYTES);
        assert!(
            md.starts_with("### 【志愿服务】志愿者报名\n**［点我］(http://evil.example) ＜font")
        );
        assert!(md.contains("\n> 联系人：社工 李＊＊ 138＊＊＊＊5678"));
        assert!(!md.contains("李**"));
    }

    #[test]
    fn personal_numbers_that_slip_in_are_masked() {
        let mut msg = sample(EventType::RequestCreated);
        msg.detail = Some("居民电话13912345678，身份证11010519491231002X".into());
        let text = render_text(&msg, WECOM_TEXT_MAX_BYTES);
        assert!(text.contains("说明：居民电话139****5678，身份证******************"));
        assert!(!text.contains("13912345678"));
    }

    #[test]
    fn long_fields_are_bounded_and_messages_fit_wecom_limits() {
        let mut msg = sample(EventType::RequestCreated);
        msg.request_title = "很长的标题".repeat(100);
        msg.detail = Some("说明".repeat(2000));
        let text = render_text(&msg, WECOM_TEXT_MAX_BYTES);
        assert!(text.len() <= WECOM_TEXT_MAX_BYTES);
        assert!(
            text.contains("时间：2024-05-18 09:00–11:00"),
            "the window survives a long title"
        );
        let md = render_markdown(&msg, WECOM_MARKDOWN_MAX_BYTES);
        assert!(md.len() <= WECOM_MARKDOWN_MAX_BYTES);
        let tiny = render_text(&msg, 100);
        assert!(tiny.len() <= 100 && tiny.ends_with('…'));
    }

    #[test]
    fn a_message_with_its_own_facts_says_them_instead_of_a_request() {
        let mut msg = sample(EventType::ReportMonthly);
        msg.facts = vec![
            ("月份".into(), "2026年11月".into()),
            ("服务时长".into(), "12.5 小时".into()),
        ];
        let text = render_text(&msg, WECOM_TEXT_MAX_BYTES);
        assert_eq!(
            text,
            "【志愿服务】志愿服务月报\n月份：2026年11月\n服务时长：12.5 小时"
        );
        let md = render_markdown(&msg, WECOM_MARKDOWN_MAX_BYTES);
        assert_eq!(
            md,
            "### 【志愿服务】志愿服务月报\n**2026年11月**\n> 服务时长：12.5 小时"
        );
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_bytes("abc", 3), "abc");
        // 志 is 3 bytes; 7 bytes leave room for one 志 plus the 3-byte ….
        assert_eq!(truncate_bytes("志愿服务", 7), "志…");
        assert_eq!(truncate_bytes("志愿服务", 8), "志…");
        assert_eq!(truncate_bytes("志愿服务", 9), "志愿…");
        assert_eq!(truncate_bytes("志愿服务", 12), "志愿服务");
        assert_eq!(truncate_bytes("ab", 1), "");
    }
}
