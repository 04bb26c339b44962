//! Export files, written while the rows stream in: CSV chunk by chunk
//! straight to the response, XLSX through rust_xlsxwriter's
//! constant-memory mode into a temporary file that is then streamed.

use actix_web::web::Bytes;
use chrono_tz::Tz;
use futures::Stream;
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::DatabaseConnection;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::reports::Range;
use crate::domain::report::{EXPORT_HEADER, ExportRecord, defuse_formula};
use crate::error::{AppError, AppResult};

/// Rows handed over (and formatted) at a time.
const BATCH_ROWS: usize = 2_000;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn csv_chunk(rows: &[(Uuid, ExportRecord)], tz: Tz, header: bool) -> AppResult<Bytes> {
    let mut out = Vec::with_capacity(rows.len() * 96 + 64);
    if header {
        out.extend_from_slice(UTF8_BOM);
    }
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        if header {
            writer
                .write_record(EXPORT_HEADER)
                .map_err(AppError::internal)?;
        }
        for (_, row) in rows {
            let cells = row.cells(tz).map(|c| defuse_formula(&c));
            writer.write_record(&cells).map_err(AppError::internal)?;
        }
        writer.flush().map_err(AppError::internal)?;
    }
    Ok(Bytes::from(out))
}

/// The CSV as a stream of chunks, from one streamed query: on PostgreSQL
/// a pooled connection, on SQLite one of the query-only readers (see
/// `startup::connect_reads`), so the writer is never held up.
pub fn csv_stream(
    db: DatabaseConnection,
    range: Range,
    tz: Tz,
) -> impl Stream<Item = Result<Bytes, AppError>> {
    let receiver = stream_rows(db, range);
    futures::stream::unfold((receiver, true), move |(mut receiver, header)| async move {
        let batch = receiver.recv().await?;
        let chunk = batch.and_then(|rows| csv_chunk(&rows, tz, header));
        Some((chunk, (receiver, false)))
    })
}

type Batch = AppResult<Vec<(Uuid, ExportRecord)>>;

/// Runs the export query in a task of its own and hands its rows over in
/// batches. The channel is bounded: the query stays at most a few batches
/// ahead of whoever formats them, so memory stays flat however slow the
/// download; when the receiver goes away, the query stops.
fn stream_rows(db: DatabaseConnection, range: Range) -> tokio::sync::mpsc::Receiver<Batch> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Batch>(4);
    tokio::spawn(async move {
        let result = super::reports::export_streamed(&db, range, BATCH_ROWS, |rows| {
            let sender = sender.clone();
            async move { sender.send(Ok(rows)).await.is_ok() }
        })
        .await;
        if let Err(err) = result {
            let _ = sender.send(Err(err)).await;
        }
    });
    receiver
}

/// Writes the XLSX into a temporary file: rows stream from the query to
/// the blocking writer, so only a few batches are ever in memory.
pub async fn xlsx_file(
    db: &DatabaseConnection,
    range: Range,
    tz: Tz,
) -> AppResult<tempfile::NamedTempFile> {
    let receiver = stream_rows(db.clone(), range);
    tokio::task::spawn_blocking(move || write_xlsx(receiver, tz))
        .await
        .map_err(AppError::internal)?
}

fn write_xlsx(
    mut batches: tokio::sync::mpsc::Receiver<Batch>,
    tz: Tz,
) -> AppResult<tempfile::NamedTempFile> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(AppError::internal)?;
    sheet.set_name("服务时长").map_err(AppError::internal)?;
    for (col, title) in EXPORT_HEADER.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *title, &bold)
            .map_err(AppError::internal)?;
    }
    let mut row_index: u32 = 1;
    while let Some(batch) = batches.blocking_recv() {
        for (_, record) in batch? {
            let cells = record.cells(tz);
            for (col, cell) in cells.iter().enumerate().take(7) {
                sheet
                    .write_string(row_index, col as u16, cell)
                    .map_err(AppError::internal)?;
            }
            // Hours as a number, so the sheet can sum them.
            let hours = (record.minutes as f64 / 60.0 * 100.0).round() / 100.0;
            sheet
                .write_number(row_index, 7, hours)
                .map_err(AppError::internal)?;
            row_index += 1;
        }
    }
    let file = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
    workbook.save(file.path()).map_err(AppError::internal)?;
    Ok(file)
}

/// Streams a finished file, deleting it when the stream ends.
pub fn file_stream(file: tempfile::NamedTempFile) -> impl Stream<Item = Result<Bytes, AppError>> {
    futures::stream::try_unfold(Some((file, None::<tokio::fs::File>)), |state| async move {
        let Some((file, handle)) = state else {
            return Ok(None);
        };
        let mut handle = match handle {
            Some(h) => h,
            None => tokio::fs::File::open(file.path())
                .await
                .map_err(AppError::internal)?,
        };
        let mut buf = vec![0u8; 64 * 1024];
        let n = handle.read(&mut buf).await.map_err(AppError::internal)?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), Some((file, Some(handle))))))
    })
}
