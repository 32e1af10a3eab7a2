//! One step of a replay, with no I/O: which months' logs to read, and what the step comes to —
//! the events to hand to the endpoint's courier, and the page the next step starts from. A step
//! reads at most [`MONTHS_PER_STEP`] months' objects, and past that many empty ones the next step
//! starts at the following month, so a long range of empty months never runs past an
//! invocation's limits. The queue consumer drives it, one queued page per step.

use super::log::{
    month_of, month_start_ms, months_between, LogAnswer, LogRequest, MONTHS_PER_STEP, PAGE_ROWS,
};
use super::queue::ReplayPage;
use crate::conversation::{Asker, Conversation};

/// A question: ask the log of this month (`YYYY-MM`) this.
pub type Question = (String, LogRequest);

/// What a step comes to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// The events to deliver now: `(event id, time)`.
    pub deliver: Vec<(String, u64)>,
    /// Where the replay goes on; `None`: it is done.
    pub next: Option<ReplayPage>,
}

/// The step of `page`.
pub fn step(page: &ReplayPage) -> Conversation<'_, Question, LogAnswer, Step> {
    Conversation::new(move |logs: Asker<Question, LogAnswer>| async move {
        let mut read = 0;
        for month in months_between(page.from_ms, page.to_ms) {
            if page
                .after
                .as_ref()
                .is_some_and(|c| month_of(c.time_ms) > month)
            {
                continue;
            }
            if read == MONTHS_PER_STEP {
                let Some(from_ms) = month_start_ms(&month) else {
                    break;
                };
                let next = ReplayPage {
                    from_ms,
                    after: None,
                    ..page.clone()
                };
                return Step {
                    deliver: Vec::new(),
                    next: Some(next),
                };
            }
            read += 1;
            let request = LogRequest::Page {
                from_ms: page.from_ms,
                to_ms: page.to_ms,
                types: page.types.clone(),
                after: page.after.clone(),
                limit: PAGE_ROWS,
            };
            let answer = logs.ask((month, request)).await;
            let Some(last) = answer.rows.last() else {
                continue;
            };
            let next = ReplayPage {
                after: Some(super::log::Cursor {
                    time_ms: last.time_ms,
                    id: last.id.clone(),
                }),
                ..page.clone()
            };
            return Step {
                deliver: answer
                    .rows
                    .iter()
                    .map(|r| (r.id.clone(), r.time_ms))
                    .collect(),
                next: Some(next),
            };
        }
        Step::default()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::feed::events::EventType;
    use crate::feed::log::LogRow;

    const DAY: u64 = 86_400_000;
    /// 2026-01-01T00:00:00Z.
    const JAN_2026: u64 = 1_767_225_600_000;

    fn row(id: &str, time_ms: u64) -> LogRow {
        LogRow {
            id: id.into(),
            time_ms,
            kind: EventType::ConsentGranted,
            member: None,
            body: "{}".into(),
        }
    }

    /// Runs steps against logs by month until the replay is done: the events delivered, in
    /// order, and how many months each step read.
    fn replay(
        logs: &BTreeMap<String, Vec<LogRow>>,
        from_ms: u64,
        to_ms: u64,
    ) -> (Vec<String>, Vec<usize>) {
        let mut page = Some(ReplayPage {
            endpoint: "fe_1".into(),
            from_ms,
            to_ms,
            types: Vec::new(),
            after: None,
        });
        let (mut delivered, mut reads) = (Vec::new(), Vec::new());
        while let Some(current) = page.take() {
            let mut read = 0;
            let step = step(&current).run(|(month, request)| {
                read += 1;
                let LogRequest::Page { after, limit, .. } = request else {
                    panic!("a replay only pages");
                };
                let rows = logs.get(&month).cloned().unwrap_or_default();
                let rows = rows
                    .into_iter()
                    .filter(|r| {
                        after
                            .as_ref()
                            .is_none_or(|c| (r.time_ms, &r.id) > (c.time_ms, &c.id))
                    })
                    .take(limit as usize)
                    .collect();
                LogAnswer { rows, changed: 0 }
            });
            reads.push(read);
            delivered.extend(step.deliver.into_iter().map(|(id, _)| id));
            page = step.next;
        }
        (delivered, reads)
    }

    #[test]
    fn a_replay_delivers_every_event_of_the_range_once_in_order() {
        let mut logs = BTreeMap::new();
        logs.insert(
            "2026-01".to_owned(),
            vec![row("a", JAN_2026 + DAY), row("b", JAN_2026 + 2 * DAY)],
        );
        logs.insert("2026-03".to_owned(), vec![row("c", JAN_2026 + 60 * DAY)]);
        let (delivered, _) = replay(&logs, JAN_2026, JAN_2026 + 90 * DAY);
        assert_eq!(delivered, ["a", "b", "c"]);
    }

    #[test]
    fn a_long_run_of_empty_months_is_read_a_bounded_number_at_a_time() {
        let mut logs = BTreeMap::new();
        let late = JAN_2026 + 3 * 365 * DAY;
        logs.insert(month_of(late), vec![row("z", late)]);
        let (delivered, reads) = replay(&logs, JAN_2026, late + DAY);
        assert_eq!(delivered, ["z"]);
        assert!(reads.iter().all(|r| *r <= MONTHS_PER_STEP), "{reads:?}");
        assert!(reads.len() > 2, "several steps: {reads:?}");
    }

    #[test]
    fn a_month_of_more_than_a_page_goes_on_after_its_last_row() {
        let rows: Vec<LogRow> = (0..PAGE_ROWS + 3)
            .map(|i| row(&format!("e{i:04}"), JAN_2026 + u64::from(i)))
            .collect();
        let mut logs = BTreeMap::new();
        logs.insert("2026-01".to_owned(), rows);
        let (delivered, reads) = replay(&logs, JAN_2026, JAN_2026 + 10 * DAY);
        assert_eq!(delivered.len(), PAGE_ROWS as usize + 3);
        assert_eq!(reads[..2], [1, 1]);
    }
}
