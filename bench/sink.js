// The benchmark's outbound network: every fetch the Worker makes (replies to LINE and the
// Graph API) lands here and gets 200 {}, as the platforms would answer.
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return Response.json({});
  },
};
