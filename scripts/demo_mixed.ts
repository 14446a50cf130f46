/**
 * `deno task demo:mixed`: one process hosts a WebSocket hub (for browsers)
 * and an iroh hub (for native spokes) over one shared upstream, and a
 * WebSocket spoke and an iroh spoke exchange events through them. Everything
 * runs in this process, on 127.0.0.1; the iroh spoke has its own endpoint,
 * relays off. Needs the iroh binding in tools/node_modules
 * (`npm install --prefix tools`).
 */

import { createPubSub, InProcessEventTarget } from "../mod.ts";
import { connectWebSocketEventTarget, createWebSocketHub } from "../adapters/websocket/mod.ts";
import { connectIrohEventTarget, createIrohHub } from "../adapters/iroh/mod.ts";
import { ALPN, bindEndpoint, iroh, loopbackAddrs, skipReason } from "../tests/iroh/load_iroh.ts";

if (iroh === undefined) {
  console.log(`demo:mixed needs the iroh binding: ${skipReason}`);
  Deno.exit(1);
}
const binding = iroh;

/** The event map both kinds of spoke share. */
type Events = {
  "chat.message": { from: string; text: string };
  "sensor.reading": { celsius: number };
};

const log = (who: string, line: string) => console.log(`${who.padEnd(10)} ${line}`);

// The hubs: one upstream, so an event from either side reaches subscribers on both.
const upstream = new InProcessEventTarget();
const wsHub = createWebSocketHub({ upstream });
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  wsHub.accept(socket);
  return response;
});
const hubEndpoint = await bindEndpoint([ALPN]);
const irohHub = createIrohHub({ upstream });
const acceptLoop = (async () => {
  for (let incoming = await hubEndpoint.acceptNext(); incoming; incoming = await hubEndpoint.acceptNext()) {
    irohHub.accept(await (await incoming.accept()).connect());
  }
})();
irohHub.addEventListener("connect", () => log("iroh hub", "a native spoke connected"));
log("hubs", `WebSocket on ws://127.0.0.1:${server.addr.port}, iroh on ${hubEndpoint.id().toString().slice(0, 12)}…`);

// A browser-like spoke over WebSocket, and a native spoke over iroh.
const browser = connectWebSocketEventTarget(`ws://127.0.0.1:${server.addr.port}`);
const spokeEndpoint = await bindEndpoint();
const native = connectIrohEventTarget(() =>
  spokeEndpoint.connect(new binding.EndpointAddr(hubEndpoint.id(), null, loopbackAddrs(hubEndpoint)), ALPN)
);
const atBrowser = createPubSub<Events>({ eventTarget: browser });
const atNative = createPubSub<Events>({ eventTarget: native });

// The browser shows the sensor; the native spoke follows the chat.
const readings = atBrowser.subscribe("sensor.reading", "greenhouse");
const chat = atNative.subscribe("chat.message", "lobby");
await Promise.all([atBrowser.ready("sensor.reading", "greenhouse"), atNative.ready("chat.message", "lobby")]);

for (const celsius of [21.5, 22, 22.5]) {
  log("native", `publish sensor.reading greenhouse ${celsius} °C`);
  atNative.publish("sensor.reading", "greenhouse", { celsius });
}
atBrowser.publish("chat.message", "lobby", { from: "browser", text: "it is getting warm in there" });

let n = 0;
for await (const { celsius } of readings) {
  log("browser", `greenhouse at ${celsius} °C (from the iroh spoke, through the WebSocket hub)`);
  if (++n === 3) break;
}
for await (const message of chat) {
  log("native", `lobby <${message.from}> ${message.text} (from the browser, through the iroh hub)`);
  break;
}

log("iroh hub", JSON.stringify(irohHub.stats()));
atBrowser.close();
atNative.close();
browser.close();
await browser.closed;
await native.close();
await irohHub.close();
await wsHub.close();
await spokeEndpoint.close();
await hubEndpoint.close();
await acceptLoop;
await server.shutdown();
log("demo", "done");
