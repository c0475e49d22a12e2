//! Moving a relay from its SQLite file to PostgreSQL (`kring-server migrate --from
//! sqlite:PATH --to postgres://…`, docs/relay.md).
//!
//! Every row is copied as stored: circle numbers, cursors, membership positions,
//! envelope bytes, usage counters, tombstones, push subscriptions, the relay's VAPID
//! key and snapshots, so devices go on exactly where they were (their cursors and the
//! relay's push key are unchanged). The copy is one PostgreSQL transaction, checked
//! (row counts per table) before it commits: a failed or interrupted migration leaves
//! the target as it was. The target must hold no circles yet; the relay must be
//! stopped (the SQLite file is read as it is).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use tokio_postgres::types::ToSql;

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::RelayStore;
use crate::error::{internal, Result};

/// Rows copied per statement.
const CHUNK: usize = 500;

/// One table's copy: its SQLite query, its PostgreSQL insert (parameters are
/// arrays, one per column, unnested), and how to read a column.
struct Table {
    name: &'static str,
    select: &'static str,
    insert: &'static str,
    columns: &'static [Column],
}

#[derive(Clone, Copy)]
enum Column {
    Int,
    NullableInt,
    Text,
    NullableText,
    Blob,
}

/// In dependency order (circles first).
const TABLES: &[Table] = &[
    Table {
        name: "circles",
        select: "SELECT num, id, created_at, active_at, closed_at, admission, envelopes, bytes,
                        (SELECT coalesce(max(cursor), 0) FROM envelopes e WHERE e.circle = c.num),
                        (SELECT count(*) FROM membership m WHERE m.circle = c.num)
                 FROM circles c ORDER BY num",
        insert: "INSERT INTO circles (num, id, created_at, active_at, closed_at, admission,
                                      envelopes, bytes, latest, log_len)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[],
                                      $5::bigint[], $6::text[], $7::bigint[], $8::bigint[],
                                      $9::bigint[], $10::bigint[])",
        columns: &[
            Column::Int,
            Column::Text,
            Column::Int,
            Column::Int,
            Column::NullableInt,
            Column::NullableText,
            Column::Int,
            Column::Int,
            Column::Int,
            Column::Int,
        ],
    },
    Table {
        name: "membership",
        select: "SELECT circle, seq, hash, bytes FROM membership ORDER BY circle, seq",
        insert: "INSERT INTO membership (circle, seq, hash, bytes)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])",
        columns: &[Column::Int, Column::Int, Column::Blob, Column::Blob],
    },
    Table {
        name: "envelopes",
        select: "SELECT circle, cursor, author, device_seq, hash, stored_at, bytes
                 FROM envelopes ORDER BY circle, cursor",
        insert: "INSERT INTO envelopes (circle, cursor, author, device_seq, hash, stored_at, bytes)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bigint[],
                                      $5::bytea[], $6::bigint[], $7::bytea[])",
        columns: &[
            Column::Int,
            Column::Int,
            Column::Blob,
            Column::Int,
            Column::Blob,
            Column::Int,
            Column::Blob,
        ],
    },
    Table {
        name: "device_days",
        select: "SELECT device, day, envelopes, bytes FROM device_days",
        insert: "INSERT INTO device_days (device, day, envelopes, bytes)
                 SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::bigint[])",
        columns: &[Column::Blob, Column::Int, Column::Int, Column::Int],
    },
    Table {
        name: "admission_revoked",
        select: "SELECT id, revoked_at FROM admission_revoked",
        insert: "INSERT INTO admission_revoked (id, revoked_at)
                 SELECT * FROM unnest($1::text[], $2::bigint[])",
        columns: &[Column::Text, Column::Int],
    },
    Table {
        name: "push_subscriptions",
        select: "SELECT circle, device, endpoint, p256dh, auth, created_at FROM push_subscriptions",
        insert:
            "INSERT INTO push_subscriptions (circle, device, endpoint, p256dh, auth, created_at)
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bytea[],
                                      $5::bytea[], $6::bigint[])",
        columns: &[
            Column::Int,
            Column::Blob,
            Column::Text,
            Column::Blob,
            Column::Blob,
            Column::Int,
        ],
    },
    Table {
        name: "relay_secrets",
        select: "SELECT name, secret FROM relay_secrets",
        insert: "INSERT INTO relay_secrets (name, secret)
                 SELECT * FROM unnest($1::text[], $2::bytea[])",
        columns: &[Column::Text, Column::Blob],
    },
    Table {
        name: "snapshots",
        select: "SELECT circle, covers, stored_at, bytes FROM snapshots",
        insert: "INSERT INTO snapshots (circle, covers, stored_at, bytes)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[])",
        columns: &[Column::Int, Column::Int, Column::Int, Column::Blob],
    },
];

/// One column's values of a chunk, as the array parameter PostgreSQL unnests.
enum Values {
    Int(Vec<i64>),
    NullableInt(Vec<Option<i64>>),
    Text(Vec<String>),
    NullableText(Vec<Option<String>>),
    Blob(Vec<Vec<u8>>),
}

impl Values {
    fn new(column: Column) -> Self {
        match column {
            Column::Int => Values::Int(Vec::new()),
            Column::NullableInt => Values::NullableInt(Vec::new()),
            Column::Text => Values::Text(Vec::new()),
            Column::NullableText => Values::NullableText(Vec::new()),
            Column::Blob => Values::Blob(Vec::new()),
        }
    }

    fn push(&mut self, row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<()> {
        match self {
            Values::Int(v) => v.push(row.get(i)?),
            Values::NullableInt(v) => v.push(row.get(i)?),
            Values::Text(v) => v.push(row.get(i)?),
            Values::NullableText(v) => v.push(row.get(i)?),
            Values::Blob(v) => v.push(row.get(i)?),
        }
        Ok(())
    }

    fn as_param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Values::Int(v) => v,
            Values::NullableInt(v) => v,
            Values::Text(v) => v,
            Values::NullableText(v) => v,
            Values::Blob(v) => v,
        }
    }
}

/// What a migration copied: rows per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied(pub Vec<(&'static str, u64)>);

/// Copies the relay database at `sqlite` into the empty PostgreSQL database `postgres`;
/// `progress` hears `(table, rows so far, rows in all)` as it goes.
pub async fn sqlite_to_postgres(
    sqlite: &Path,
    postgres: &str,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<Copied> {
    if !sqlite.exists() {
        return Err(kring_trust::Error::InvalidValue {
            field: "--from",
            value: sqlite.display().to_string(),
            expected: "an existing relay database file".into(),
        }
        .into());
    }
    // Opening it as the relay does brings an older file's schema up to date.
    let path = sqlite.to_path_buf();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, 1, None))
        .await
        .map_err(internal)??;
    store.close().await?;
    let source = Connection::open_with_flags(sqlite, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let target = PostgresStore::open(postgres, 2).await?;
    let mut client = target.client().await?;
    let tx = client.transaction().await?;
    let held: i64 = tx
        .query_one("SELECT count(*) FROM circles", &[])
        .await?
        .get(0);
    if held > 0 {
        return Err(kring_trust::Error::InvalidValue {
            field: "--to",
            value: super::postgres::redacted(postgres),
            expected: format!("an empty relay database (this one holds {held} circles)"),
        }
        .into());
    }
    let mut copied = Vec::new();
    for table in TABLES {
        let total: i64 =
            source.query_row(&format!("SELECT count(*) FROM {}", table.name), [], |r| {
                r.get(0)
            })?;
        let total = u64::try_from(total).unwrap_or(0);
        let insert = tx.prepare(table.insert).await?;
        let mut statement = source.prepare(table.select)?;
        let mut rows = statement.query([])?;
        let mut done = 0u64;
        loop {
            let mut chunk: Vec<Values> = table.columns.iter().map(|c| Values::new(*c)).collect();
            let mut in_chunk = 0;
            while in_chunk < CHUNK {
                let Some(row) = rows.next()? else { break };
                for (i, values) in chunk.iter_mut().enumerate() {
                    values.push(row, i)?;
                }
                in_chunk += 1;
            }
            if in_chunk == 0 {
                break;
            }
            let params: Vec<&(dyn ToSql + Sync)> = chunk.iter().map(Values::as_param).collect();
            tx.execute(&insert, &params).await?;
            done += in_chunk as u64;
            progress(table.name, done, total);
        }
        let landed: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", table.name), &[])
            .await?
            .get(0);
        if u64::try_from(landed).unwrap_or(0) != total {
            return Err(internal(format!(
                "{}: {total} rows in the SQLite file, {landed} copied; nothing was committed",
                table.name
            ))
            .into());
        }
        copied.push((table.name, total));
    }
    // New circles are numbered after the copied ones.
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('circles', 'num'),
                       (SELECT coalesce(max(num), 0) + 1 FROM circles), false)",
        &[],
    )
    .await?;
    tx.commit().await?;
    target.close().await?;
    Ok(Copied(copied))
}
