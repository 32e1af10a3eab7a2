//! The `FeedLog` Durable Object (SQLite-backed): one per UTC month, the events of the feed as
//! delivered (see [`optin_core::feed::log`]). It keeps rows, reads them by id or in time order, and
//! scrubs an erased member's channel user ids, remembering the member so that rows still on
//! their way arrive scrubbed.

use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorageValue, State};

use crate::edge::runtime::sql::{int, text};
use optin_core::feed::events::{scrub, EventType};
use optin_core::feed::log::{LogAnswer, LogRequest, LogRow};

#[durable_object]
pub struct FeedLog {
    state: State,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    time_ms: i64,
    kind: String,
    member: Option<String>,
    body: String,
}

impl Row {
    fn into_log_row(self) -> Option<LogRow> {
        Some(LogRow {
            id: self.id,
            time_ms: u64::try_from(self.time_ms).ok()?,
            kind: EventType::parse(&self.kind)?,
            member: self.member,
            body: self.body,
        })
    }
}

const COLUMNS: &str = "id, time_ms, kind, member, body";

impl FeedLog {
    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> worker::Result<Vec<LogRow>> {
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec(query, bindings)?
            .to_array()?;
        Ok(rows.into_iter().filter_map(Row::into_log_row).collect())
    }

    fn is_erased(&self, member: &str) -> worker::Result<bool> {
        #[derive(Deserialize)]
        struct Hit {
            #[allow(dead_code)]
            member: String,
        }
        let hits: Vec<Hit> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT member FROM erased WHERE member = ?",
                vec![text(member)],
            )?
            .to_array()?;
        Ok(!hits.is_empty())
    }

    fn append(&self, rows: Vec<LogRow>) -> worker::Result<u64> {
        let sql = self.state.storage().sql();
        let mut changed = 0;
        for mut row in rows {
            if let Some(member) = &row.member {
                if self.is_erased(member)? {
                    if let Some(clean) = scrub(&row.body) {
                        row.body = clean;
                    }
                }
            }
            let cursor = sql.exec(
                "INSERT OR IGNORE INTO events (id, time_ms, kind, member, body) \
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    text(&row.id),
                    int(row.time_ms),
                    text(row.kind.as_str()),
                    row.member.as_deref().map_or(SqlStorageValue::Null, text),
                    text(&row.body),
                ],
            )?;
            changed += u64::try_from(cursor.rows_written()).unwrap_or(0);
        }
        Ok(changed)
    }

    fn scrub_member(&self, member: &str) -> worker::Result<u64> {
        let sql = self.state.storage().sql();
        sql.exec(
            "INSERT OR IGNORE INTO erased (member) VALUES (?)",
            vec![text(member)],
        )?;
        let rows = self.rows(
            &format!("SELECT {COLUMNS} FROM events WHERE member = ?"),
            vec![text(member)],
        )?;
        let mut changed = 0;
        for row in rows {
            if let Some(clean) = scrub(&row.body) {
                sql.exec(
                    "UPDATE events SET body = ? WHERE id = ?",
                    vec![text(&clean), text(&row.id)],
                )?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    fn answer(&self, request: LogRequest) -> worker::Result<LogAnswer> {
        let mut answer = LogAnswer {
            rows: Vec::new(),
            changed: 0,
        };
        match request {
            LogRequest::Append { rows } => answer.changed = self.append(rows)?,
            LogRequest::Get { ids } => {
                for id in ids {
                    answer.rows.extend(self.rows(
                        &format!("SELECT {COLUMNS} FROM events WHERE id = ?"),
                        vec![text(&id)],
                    )?);
                }
            }
            LogRequest::Page {
                from_ms,
                to_ms,
                types,
                after,
                limit,
            } => {
                let (after_time, after_id) =
                    after.map_or((0, String::new()), |c| (c.time_ms, c.id));
                let mut query = format!(
                    "SELECT {COLUMNS} FROM events WHERE time_ms >= ? AND time_ms < ? \
                     AND (time_ms > ? OR (time_ms = ? AND id > ?))"
                );
                let mut bindings = vec![
                    int(from_ms),
                    int(to_ms),
                    int(after_time),
                    int(after_time),
                    text(&after_id),
                ];
                if !types.is_empty() {
                    let marks = vec!["?"; types.len()].join(", ");
                    query.push_str(&format!(" AND kind IN ({marks})"));
                    bindings.extend(types.iter().map(|t| text(t.as_str())));
                }
                query.push_str(" ORDER BY time_ms, id LIMIT ?");
                bindings.push(int(u64::from(limit.clamp(1, 1000))));
                answer.rows = self.rows(&query, bindings)?;
            }
            LogRequest::Scrub { member } => answer.changed = self.scrub_member(&member)?,
            LogRequest::Purge { before_ms } => {
                let sql = self.state.storage().sql();
                let before: Vec<Count> = sql
                    .exec(
                        "SELECT COUNT(*) AS n FROM events WHERE time_ms < ?",
                        vec![int(before_ms)],
                    )?
                    .to_array()?;
                sql.exec("DELETE FROM events WHERE time_ms < ?", vec![int(before_ms)])?;
                answer.changed = before
                    .first()
                    .map_or(0, |c| u64::try_from(c.n).unwrap_or(0));
            }
        }
        Ok(answer)
    }
}

#[derive(serde::Deserialize)]
struct Count {
    n: i64,
}

impl DurableObject for FeedLog {
    fn new(state: State, _env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let sql = state.storage().sql();
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, \
             kind TEXT NOT NULL, member TEXT, body TEXT NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS events_time ON events (time_ms, id)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS events_member ON events (member)",
            None,
        );
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS erased (member TEXT PRIMARY KEY)",
            None,
        );
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        crate::edge::runtime::objects::fetch_answer(&mut req, |r| self.handle(r)).await
    }
}

crate::edge::runtime::objects::answer_calls!(FeedLog, handle);

impl FeedLog {
    async fn handle(&self, request: LogRequest) -> crate::edge::runtime::objects::Answered {
        crate::edge::runtime::objects::json(&self.answer(request)?)
    }
}
