//! A count of the operations one invocation makes against a platform limit, refusing the one
//! that would pass it (used for Workers KV's 1,000 operations per invocation, see
//! `edge::kv`): bounded work is proven where it is built, not only in production.

use std::cell::Cell;

use crate::error::Error;

#[derive(Debug)]
pub struct Budget {
    limit: u32,
    used: Cell<u32>,
    /// What is counted, for the refusal's message (`KV`).
    what: &'static str,
}

impl Budget {
    pub fn new(what: &'static str, limit: u32) -> Self {
        Self {
            limit,
            used: Cell::new(0),
            what,
        }
    }

    pub fn used(&self) -> u32 {
        self.used.get()
    }

    pub fn left(&self) -> u32 {
        self.limit.saturating_sub(self.used.get())
    }

    /// Counts `n` operations of kind `op`, or refuses them all (a storage error whose cause
    /// names the budget) when they would pass the limit.
    pub fn spend(&self, n: u32, op: &str) -> Result<(), Error> {
        let after = self.used.get().saturating_add(n);
        if after > self.limit {
            return Err(Error::Storage {
                cause: format!(
                    "{} budget spent: {op} would be operation {after} of this invocation (budget {})",
                    self.what, self.limit
                ),
            });
        }
        self.used.set(after);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_past_the_limit_is_refused_with_a_cause_for_the_log_and_not_counted() {
        let b = Budget::new("KV", 3);
        assert!(b.spend(1, "kv get").is_ok());
        assert!(b.spend(2, "kv list").is_ok());
        assert_eq!((b.used(), b.left()), (3, 0));
        let refused = b.spend(1, "kv put").unwrap_err();
        assert_eq!(refused.status(), 500);
        let cause = refused.log_detail().unwrap();
        assert!(
            cause.contains("KV budget spent: kv put would be operation 4"),
            "{cause}"
        );
        assert_eq!(b.used(), 3, "a refused operation is not made");
        assert!(b.spend(0, "nothing").is_ok());
    }
}
