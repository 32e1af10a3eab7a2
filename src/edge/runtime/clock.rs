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

/// A zone as this isolate knows it: its formatter (`None`: the runtime does not know the
/// zone) and the last day it gave, with the quarter hour that day holds for.
struct Zone {
    formatter: Option<Formatter>,
    last_day: Option<(u64, String)>,
}

thread_local! {
    static ZONES: RefCell<BTreeMap<String, Zone>> = const { RefCell::new(BTreeMap::new()) };
}

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
    with_zone(time_zone, |zone| zone.formatter.is_some())
}

fn with_zone<T>(time_zone: &str, f: impl FnOnce(&mut Zone) -> T) -> T {
    ZONES.with(|zones| {
        let mut zones = zones.borrow_mut();
        let zone = zones.entry(time_zone.to_owned()).or_insert_with(|| Zone {
            formatter: formatter(time_zone),
            last_day: None,
        });
        f(zone)
    })
}

/// The calendar day (`YYYY-MM-DD`) at `unix_ms` in `time_zone`; the UTC day when the zone is
/// unknown to the runtime (stores are checked when saved, so only an old record can be).
pub fn local_day(time_zone: &str, unix_ms: u64) -> String {
    let quarter = unix_ms / QUARTER_HOUR_MS;
    with_zone(time_zone, |zone| {
        if let Some((q, day)) = &zone.last_day {
            if *q == quarter {
                return day.clone();
            }
        }
        let day = zone
            .formatter
            .as_ref()
            .and_then(|f| day_of(f, unix_ms))
            .unwrap_or_else(|| optin_core::time::utc_day(unix_ms));
        zone.last_day = Some((quarter, day.clone()));
        day
    })
}

/// The day `Intl` gives, if it reads as one.
fn day_of(f: &Formatter, unix_ms: u64) -> Option<String> {
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
    let day = format!("{y:0>4}-{m}-{d}");
    optin_core::time::parse_day(&day).is_some().then_some(day)
}
