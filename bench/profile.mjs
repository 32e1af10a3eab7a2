// CPU profile of the Worker under load, through workerd's inspector (the DevTools protocol):
// samples for SECONDS, writes OUT.cpuprofile (open it in Chrome DevTools → Performance) and
// prints the functions with the most self time, wasm functions by their Rust names.
// Usage: node bench/profile.mjs ws://127.0.0.1:PORT/main SECONDS OUT
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

const [url, seconds, out] = process.argv.slice(2);
const ws = new WebSocket(url);
let next = 0;
const pending = new Map();
const send = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
ws.on("message", (data) => {
  const msg = JSON.parse(data);
  const waiter = msg.id && pending.get(msg.id);
  if (!waiter) return;
  pending.delete(msg.id);
  msg.error ? waiter.reject(new Error(msg.error.message)) : waiter.resolve(msg.result);
});
await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 }); // µs
await send("Profiler.start");
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
const { profile } = await send("Profiler.stop");
ws.close();
writeFileSync(`${out}.cpuprofile`, JSON.stringify(profile));

// Self time per function: each sample is charged to the node it landed in.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const self = new Map();
let total = 0;
for (const [id, count] of hits) {
  const frame = byId.get(id).callFrame;
  const name = `${frame.functionName || "(anonymous)"}${frame.url ? ` ${frame.url.split("/").pop()}:${frame.lineNumber}` : ""}`;
  self.set(name, (self.get(name) ?? 0) + count);
  total += count;
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40));
console.log(`${total} samples; self time:`);
for (const [name, count] of top) console.log(`${((100 * count) / total).toFixed(1).padStart(6)}%  ${name.slice(0, 150)}`);
