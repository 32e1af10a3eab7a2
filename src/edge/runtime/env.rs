//! The Worker's env as the core's [`Config`]: read once per isolate (settings change only with a
//! new deployment, which starts new isolates).

use std::rc::Rc;

use worker::Env;

use optin_core::settings::config::Config;

thread_local! {
    static CONFIG: std::cell::OnceCell<Rc<Config>> = const { std::cell::OnceCell::new() };
}

/// The typed configuration of this isolate.
pub fn config(env: &Env) -> Rc<Config> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| Rc::new(Config::from_lookup(|name| lookup(env, name))))
            .clone()
    })
}

/// One setting, from `[vars]` or a secret (both are strings in the env).
pub fn lookup(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}
