//! End-to-end tests: the release build of the Worker under `wrangler dev` (workerd, local KV and
//! Durable Objects), driven over HTTP. Run by `make test` after the build.
//!
//! One binary, one harness: `main` starts the Workers every test shares, runs the tests (in
//! parallel, each on its own ids), then stops the Workers whatever the outcome.

/// `tests![a, b]`: the named test functions, each under its own name.
#[macro_export]
macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), $name as fn(&$crate::Fixture))),*]
    };
}

mod cards;
mod console;
mod evidence;
mod feed;
mod foundation;
mod harness;
mod offline;
mod reach;
mod recorder;
mod sign;
mod stores;
mod till;
mod wallet;
mod webhooks;

use std::sync::OnceLock;

use harness::{Setup, Worker};
use libtest_mimic::{Arguments, Trial};
use recorder::Recorder;

/// The Workers the tests share.
pub struct Fixture {
    /// Fully configured.
    pub app: Worker,
    /// Started without any secret.
    pub bare: Worker,
    /// Stands in for the LINE and Graph APIs of `app`.
    pub platforms: Recorder,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// A test: a sentence for a name and a function over the shared fixture.
pub type Test = (&'static str, fn(&Fixture));

fn main() {
    let args = Arguments::from_args();
    let tests: Vec<Test> = [
        foundation::tests(),
        webhooks::tests(),
        stores::tests(),
        cards::tests(),
        till::tests(),
        feed::tests(),
        evidence::tests(),
        console::tests(),
        reach::tests(),
        wallet::tests(),
        offline::tests(),
    ]
    .concat();
    let wanted = tests
        .iter()
        .any(|(name, _)| args.filter.as_deref().is_none_or(|f| name.contains(f)));
    if wanted && !args.list {
        let platforms = Recorder::start();
        let (app, bare) = std::thread::scope(|s| {
            let app = s.spawn(|| Worker::start("app", Setup::complete(&platforms.base)));
            let bare = s.spawn(|| Worker::start("bare", Setup::without_secrets()));
            (app.join().unwrap(), bare.join().unwrap())
        });
        let _ = FIXTURE.set(Fixture {
            app,
            bare,
            platforms,
        });
    }
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            Trial::test(name, move || {
                let fixture = FIXTURE.get().ok_or("the fixture did not start")?;
                test(fixture);
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // Statics are never dropped: stop the servers explicitly before exiting.
    if let Some(fixture) = FIXTURE.get() {
        fixture.app.shutdown();
        fixture.bare.shutdown();
    }
    conclusion.exit();
}
