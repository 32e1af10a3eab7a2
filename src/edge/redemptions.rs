//! The `Redemptions` Durable Object (SQLite-backed): the strongly consistent check-and-set of
//! coupon redemption will live here, one object per member. Declared now so the binding and its
//! migration exist from the first deployment; it serves nothing until the membership capability.

use worker::{durable_object, DurableObject, Env, Request, Response, State};

use super::respond;
use crate::error::Error;

#[durable_object]
pub struct Redemptions {
    _state: State,
    _env: Env,
}

impl DurableObject for Redemptions {
    fn new(state: State, env: Env) -> Self {
        Self {
            _state: state,
            _env: env,
        }
    }

    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        Ok(respond::json(
            404,
            &serde_json::from_str(&Error::NotFound.to_json())?,
        ))
    }
}
