// The Bun peer for `cargo xtask bench`: Bun's own chat-bench shape
// (uWebSockets underneath): every text frame goes to every connected
// socket through one pub/sub topic. Loopback only.
const port = Number(process.argv[2] ?? 0);
const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch(request, server) {
    if (server.upgrade(request)) return;
    return new Response("websocket only", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.subscribe("room");
    },
    message(ws, message) {
      server.publish("room", message);
    },
  },
});
console.log(`listening on ${server.hostname}:${server.port}`);
