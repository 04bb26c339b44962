//! A certificate as PDF: A4, Chinese text as real text in an embedded
//! subset of Noto Sans SC (krilla subsets the font per document and writes
//! a ToUnicode map, so copied or extracted text gives the same
//! characters), and the verification address as a QR code drawn as
//! vector squares.

use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{Color, QrCode};

/// Noto Sans CJK SC, cut to ASCII, CJK punctuation and every hanzi of
/// GBK (`api/assets/fonts/README.md`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-Certificate.otf");

const A4: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 64.0;
const LINE: f32 = 26.0;
/// Side of the QR code on the page, points (about 3.5 cm).
const QR_SIDE: f32 = 100.0;
pub const TITLE: &str = "志愿服务记录证明";

/// Everything the page says.
pub struct PdfFacts<'a> {
    pub volunteer_name: &'a str,
    pub hours: f64,
    pub records: i64,
    pub period_from: &'a str,
    pub period_to: &'a str,
    /// `(label, hours)`, in the order to print.
    pub by_category: &'a [(String, f64)],
    pub issuer: &'a str,
    pub issued_on: &'a str,
    pub number: &'a str,
    pub verify_url: &'a str,
    pub revoked: bool,
}

/// The PDF bytes, or why they could not be made (a bug: the inputs are
/// plain text and the font is ours).
pub fn render(f: &PdfFacts<'_>) -> Result<Vec<u8>, String> {
    let font = Font::new(FONT.into(), 0).ok_or("the embedded font does not load")?;
    let mut doc = Document::new();
    doc.set_metadata(Metadata::new().title(format!("{TITLE} {}", f.number)));
    let mut lines: Vec<(f32, String)> = vec![
        (
            14.0,
            format!(
                "兹证明 {} 同志参加志愿服务，经记录与审核，情况如下：",
                f.volunteer_name
            ),
        ),
        (14.0, format!("姓名：{}", f.volunteer_name)),
        (14.0, format!("服务时长：{} 小时", f.hours)),
        (14.0, format!("服务记录：{} 条", f.records)),
        (
            14.0,
            format!("服务期间：{} 至 {}", f.period_from, f.period_to),
        ),
        (14.0, "按服务类别：".to_string()),
    ];
    lines.extend(
        f.by_category
            .iter()
            .map(|(label, hours)| (13.0, format!("    {label}：{hours} 小时"))),
    );
    let mut pages = lines.chunks(22).peekable();
    let mut first = true;
    while let Some(chunk) = pages.next() {
        let mut page = doc.start_page_with(PageSettings::from_wh(A4.0, A4.1).ok_or("page size")?);
        let mut s = page.surface();
        s.set_fill(Some(black()));
        let mut y = MARGIN + 40.0;
        if first {
            // Hanzi are one em wide: the title's width is its length.
            let size = 26.0;
            let width = TITLE.chars().count() as f32 * size;
            text(&mut s, &font, (A4.0 - width) / 2.0, y, size, TITLE);
            y += 2.0 * LINE;
            if f.revoked {
                text(&mut s, &font, MARGIN, y, 14.0, "（此证明已撤销，不再有效）");
                y += LINE;
            }
            first = false;
        }
        for (size, line) in chunk {
            text(&mut s, &font, MARGIN, y, *size, line);
            y += LINE;
        }
        if pages.peek().is_none() {
            footer(&mut s, &font, f)?;
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}

fn black() -> Fill {
    Fill {
        paint: krilla::color::luma::Color::black().into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn text(s: &mut Surface<'_>, font: &Font, x: f32, y: f32, size: f32, line: &str) {
    s.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        line,
        false,
        TextDirection::Auto,
    );
}

/// Issuer, date, number and the QR code at the foot of the last page.
fn footer(s: &mut Surface<'_>, font: &Font, f: &PdfFacts<'_>) -> Result<(), String> {
    let bottom = A4.1 - MARGIN;
    let x = MARGIN;
    text(
        s,
        font,
        x,
        bottom - 4.0 * LINE,
        14.0,
        &format!("出具单位：{}", f.issuer),
    );
    text(
        s,
        font,
        x,
        bottom - 3.0 * LINE,
        14.0,
        &format!("出具日期：{}", f.issued_on),
    );
    text(
        s,
        font,
        x,
        bottom - 2.0 * LINE,
        12.0,
        &format!("证明编号：{}", f.number),
    );
    text(
        s,
        font,
        x,
        bottom - LINE,
        9.0,
        &format!("扫码或访问 {} 核验", f.verify_url),
    );
    let qr = QrCode::new(f.verify_url.as_bytes()).map_err(|e| e.to_string())?;
    let width = qr.width();
    let module = QR_SIDE / width as f32;
    let left = A4.0 - MARGIN - QR_SIDE;
    let top = bottom - 4.0 * LINE - 16.0;
    let mut pb = PathBuilder::new();
    for (i, color) in qr.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (col, row) = ((i % width) as f32, (i / width) as f32);
            if let Some(r) =
                Rect::from_xywh(left + col * module, top + row * module, module, module)
            {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        s.draw_path(&path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_embeds_only_the_glyphs_it_uses() {
        let cats = vec![("生活照料".to_string(), 3.5), ("精神慰藉".to_string(), 1.0)];
        let pdf = render(&PdfFacts {
            volunteer_name: "王堃喆",
            hours: 4.5,
            records: 3,
            period_from: "2026-01-01",
            period_to: "2026-03-31",
            by_category: &cats,
            issuer: "幸福社区",
            issued_on: "2026-04-01",
            number: "ZM-0000-0000-0000-0000",
            verify_url: "https://example.org/verify/ZM-0000-0000-0000-0000",
            revoked: false,
        })
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
    }
}
