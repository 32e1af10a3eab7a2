//! The funnel per store and day: the metrics, queries, rows and CSV (`stats`) and the chart the
//! console shows (`chart`). The counters live in the edge's `Funnel` object.

pub mod chart;
pub mod stats;
