// A service that is a nats.js client: it connects with nothing but the
// NATS_URL steward gives it, and prints what it hears for the test to read
// in `steward logs` (cmd/steward/e2e_natsjs_linux_test.go).
const { connect, StringCodec } = require("nats");

const sc = StringCodec();

async function main() {
  // nats.js 2 takes the user and password as options, not in the URL.
  const url = new URL(process.env.NATS_URL);
  const nc = await connect({
    servers: `${url.hostname}:${url.port}`,
    user: decodeURIComponent(url.username),
    pass: decodeURIComponent(url.password),
    name: "nats.js e2e",
  });
  // Messages steward publishes.
  nc.subscribe("js.in", {
    callback: (err, m) => {
      if (!err) console.log(`js heard: ${sc.decode(m.data)}`);
    },
  });
  // Requests steward sends: the reply keeps the correlation id.
  nc.subscribe("js.echo", {
    callback: (err, m) => {
      if (err) return;
      const h = m.headers;
      const reply = require("nats").headers();
      if (h && h.get("Steward-Correlation-Id")) reply.set("Steward-Correlation-Id", h.get("Steward-Correlation-Id"));
      m.respond(sc.encode(`pong: ${sc.decode(m.data)}`), { headers: reply });
    },
  });
  // steward's events.
  nc.subscribe("steward.*.event.>", {
    callback: (err, m) => {
      if (!err) console.log(`js event: ${m.subject}`);
    },
  });
  await nc.flush();
  // Request/reply against steward's JetStream: a publish acknowledged by
  // the stream, deduplicated by its message id, and a stream's info.
  const js = nc.jetstream();
  for (let i = 0; i < 2; i++) {
    const ack = await js.publish("jsorders.new", sc.encode("from nats.js"), { msgID: "js-order-1" });
    console.log(`js stored stream=${ack.stream} seq=${ack.seq} duplicate=${ack.duplicate}`);
  }
  const jsm = await nc.jetstreamManager();
  const si = await jsm.streams.info("JSORDERS");
  console.log(`js stream info: ${si.config.name} messages=${si.state.messages}`);
  console.log("js ready");
  await nc.closed();
}

main().catch((err) => {
  console.error(`nats.js: ${err}`);
  process.exit(1);
});
