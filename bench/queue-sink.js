// The benchmark's queue service: workerd's queue binding POSTs each send here (`/message`,
// `/batch`) and expects the broker's answer, metrics included. Messages are dropped: the
// figures count the producer's cost on the request path, not deliveries.
const answer = { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } } };
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return Response.json(answer);
  },
};
