// The Worker's main module (scripts/build.sh copies it next to worker-build's index.js).
//
// worker-build's default export is the entry class wrapped in a Proxy that, on every request,
// constructs the class, wraps the instance in a second Proxy (spreading twelve traps) and the
// handler in a third, so that after a Rust panic the next call resets the wasm instance: in a
// CPU profile of /healthz that was ~5% of the request (issue 10). Here the handlers are plain
// functions. The reset itself does not depend on the proxies: wasm-bindgen's abort handler
// (`--force-enable-abort-handler`) re-instantiates the module on the call after a trap, and
// `worker`'s panic hook raises `criticalError`; while that flag is up, a request takes the
// proxied path once, which resets as before and lowers it. The Durable Object classes are
// re-exported unchanged: their instances hold wasm pointers, which the proxies rebuild.
import Entrypoint from "./index.js";

export * from "./index.js";

const state = globalThis.__worker_init_state;
const handlers = Entrypoint.prototype;

function run(name, arg, env, ctx) {
  if (state.criticalError) return new Entrypoint(ctx, env)[name](arg);
  try {
    return handlers[name].call({ env, ctx }, arg);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      console.error("Critical", e);
      state.criticalError = true;
    }
    throw e;
  }
}

export default {
  fetch: (request, env, ctx) => run("fetch", request, env, ctx),
  queue: (batch, env, ctx) => run("queue", batch, env, ctx),
  scheduled: (event, env, ctx) => run("scheduled", event, env, ctx),
};
