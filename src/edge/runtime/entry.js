// The Worker's main module (scripts/build.sh copies it next to worker-build's index.js).
//
// worker-build's default export is the entry class wrapped in a Proxy that, on every request,
// constructs the class, wraps the instance in a second Proxy (spreading twelve traps) and the
// handler in a third, so that after a Rust panic the next call resets the wasm instance: in a
// CPU profile of /healthz that is ~5% of the request. Here the handlers are plain
// functions. The reset itself does not depend on the proxies: wasm-bindgen's abort handler
// (`--force-enable-abort-handler`) re-instantiates the module on the call after a trap, and
// `worker`'s panic hook raises `criticalError`; while that flag is up, a request takes the
// proxied path once, which resets as worker-build's wrapper does and lowers it.
//
// The Durable Object classes are worker-build's (their instances hold wasm pointers, which its
// proxies rebuild after a reset), each inside a class that extends `DurableObject`: workerd
// serves RPC only to such classes, and every call of ours is the RPC method `ask` (JSON text
// in, JSON text out; `src/edge/runtime/objects.rs`), which costs less than a `fetch` with its
// Request, Headers, body stream and Response on both sides.
import { DurableObject } from "cloudflare:workers";
import Entrypoint, * as wasm from "./index.js";

export * from "./index.js";

/** `Inner` (a wasm Durable Object class) as an RPC-capable one: `ask`, `fetch` and `alarm`. */
function answering(Inner) {
  return class extends DurableObject {
    constructor(ctx, env) {
      super(ctx, env);
      this.inner = new Inner(ctx, env);
    }
    ask(body) {
      return this.inner.ask(body);
    }
    fetch(request) {
      return this.inner.fetch(request);
    }
    alarm() {
      return this.inner.alarm();
    }
  };
}

export const Member = answering(wasm.Member);
export const Till = answering(wasm.Till);
export const Feeds = answering(wasm.Feeds);
export const FeedLog = answering(wasm.FeedLog);
export const Courier = answering(wasm.Courier);
// `Funnel` stays as it is: it is called by path with `fetch` (few calls, each a batch of counts).

const state = globalThis.__worker_init_state;
const handlers = Entrypoint.prototype;

/**
 * Calls the entry class's handler `name` with `args`, as an instance with `env` and `ctx`
 * would (`fetch`, `queue` and `scheduled` read them from `this`; `fetchWithBody`, a wasm export
 * as is, takes them as arguments).
 */
function run(name, args, env, ctx) {
  if (state.criticalError) return new Entrypoint(ctx, env)[name](...args);
  try {
    return handlers[name].apply({ env, ctx }, args);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      console.error("Critical", e);
      state.criticalError = true;
    }
    throw e;
  }
}

// Bodies declared by `Content-Length` up to the smallest limit of any route
// (`routes::JSON_BODY_LIMIT`; a unit test keeps the two equal) are read here, before Rust runs:
// no route refuses such a length (a route that answers without reading, a 401 say, has read
// at most that much). The body then reaches Rust with the request (`fetchWithBody`), and
// a webhook or a till call needs no Promise, waker or microtask of Rust's executor to wait for
// it. A body that fails to arrive is left to Rust's own reading, which reports the failure.
const PREREAD_LIMIT = 65536;

function fetch(request, env, ctx) {
  const declared = request.body === null ? null : request.headers.get("content-length");
  if (declared !== null) {
    const length = Number(declared);
    if (length > 0 && length <= PREREAD_LIMIT) {
      return request.arrayBuffer().then(
        (body) => run("fetchWithBody", [request, new Uint8Array(body), env, ctx], env, ctx),
        () => run("fetch", [request], env, ctx),
      );
    }
  }
  return run("fetch", [request], env, ctx);
}

export default {
  fetch,
  queue: (batch, env, ctx) => run("queue", [batch], env, ctx),
  scheduled: (event, env, ctx) => run("scheduled", [event], env, ctx),
};
