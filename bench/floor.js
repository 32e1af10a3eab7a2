// The runtime's floor for `make bench`: the /healthz a team would write in plain JavaScript,
// served by the same workerd in the same run. Same answer and headers as the Worker's /healthz.
export default {
  fetch(request) {
    if (new URL(request.url).pathname !== "/healthz") return new Response("not found", { status: 404 });
    return new Response('{"status":"ok"}', {
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-request-id": crypto.randomUUID(),
      },
    });
  },
};
