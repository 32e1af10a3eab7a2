//! Calendar days in a store's time zone, from the runtime's own IANA time-zone data
//! (`Intl.DateTimeFormat`, which workerd's V8 ships with ICU): no time-zone database in the
//! wasm. One formatter per zone is kept for the isolate's life, with the last day it gave.

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type Formatter;

    /// Throws a `RangeError` for a zone ICU does not know.
    #[wasm_bindgen(constructor, catch, js_namespace = Intl, js_class = "DateTimeFormat")]
    fn new(locale: &str, options: &JsValue) -> Result<Formatter, JsValue>;

    #[wasm_bindgen(method, js_name = formatToParts)]
    fn format_to_parts(this: &Formatter, unix_ms: f64) -> js_sys::Array;
}

thread_local! {
    static FORMATTERS: RefCell<BTreeMap<String, Zone>> = const { RefCell::new(BTreeMap::new()) };
    static LAST_DAYS: RefCell<BTreeMap<String, (u64, String)>> =
        const { RefCell::new(BTreeMap::new()) };
}

type Zone = Option<Formatter>;

/// A local date changes only on a quarter hour of UTC: every offset in use is a whole number
/// of quarter hours (+05:45, +12:45 included), and so is every daylight-saving shift. The
/// day of a quarter is asked of `Intl` once (`formatToParts` and its parts cost ~5% of a
/// landing page otherwise).
const QUARTER_HOUR_MS: u64 = 15 * 60 * 1000;

fn formatter(time_zone: &str) -> Option<Formatter> {
    let options = js_sys::Object::new();
    for (k, v) in [
        ("timeZone", time_zone),
        ("year", "numeric"),
        ("month", "2-digit"),
        ("day", "2-digit"),
    ] {
        js_sys::Reflect::set(&options, &k.into(), &v.into()).ok()?;
    }
    Formatter::new("en-US", &options).ok()
}

/// Whether the runtime knows this IANA zone.
pub fn known_time_zone(time_zone: &str) -> bool {
    with_formatter(time_zone, |_| ()).is_some()
}

fn with_formatter<T>(time_zone: &str, f: impl FnOnce(&Formatter) -> T) -> Option<T> {
    FORMATTERS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let entry = cache
            .entry(time_zone.to_owned())
            .or_insert_with(|| formatter(time_zone));
        entry.as_ref().map(f)
    })
}

/// The calendar day (`YYYY-MM-DD`) at `unix_ms` in `time_zone`; the UTC day when the zone is
/// unknown to the runtime (stores are checked when saved, so only an old record can be).
pub fn local_day(time_zone: &str, unix_ms: u64) -> String {
    let quarter = unix_ms / QUARTER_HOUR_MS;
    let cached = LAST_DAYS.with(|days| {
        days.borrow()
            .get(time_zone)
            .filter(|(q, _)| *q == quarter)
            .map(|(_, day)| day.clone())
    });
    if let Some(day) = cached {
        return day;
    }
    let day = ask_local_day(time_zone, unix_ms);
    LAST_DAYS.with(|days| {
        days.borrow_mut()
            .insert(time_zone.to_owned(), (quarter, day.clone()))
    });
    day
}

fn ask_local_day(time_zone: &str, unix_ms: u64) -> String {
    with_formatter(time_zone, |f| {
        let (mut y, mut m, mut d) = (String::new(), String::new(), String::new());
        for part in f.format_to_parts(unix_ms as f64).iter() {
            let get = |k: &str| {
                js_sys::Reflect::get(&part, &k.into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            match get("type").as_str() {
                "year" => y = get("value"),
                "month" => m = get("value"),
                "day" => d = get("value"),
                _ => {}
            }
        }
        format!("{y:0>4}-{m}-{d}")
    })
    .filter(|day| crate::time::parse_day(day).is_some())
    .unwrap_or_else(|| crate::time::utc_day(unix_ms))
}
