/**
 * iroh inbound benchmark (`deno task bench iroh-inbound`, issue 18): the iroh
 * hub and spoke through what users call (`createIrohHub` +
 * `connectIrohEventTarget`, default options) against batched raw
 * `@number0/iroh` streams (the same 4-byte length-prefixed JSON frames, the
 * frames of a turn in one `writeAll`), real endpoints on 127.0.0.1, relays
 * off, raw and library interleaved:
 * - spoke → hub, 50k events one way: events/s at the hub (default options,
 *   where the spoke paces itself under the hub's announced inbound limits of
 *   10,000 frames/s with bursts of 20,000; and with `inboundLimits: false`);
 * - the same with 100k events (sustained, further past the announced burst);
 * - hub → spoke, 50k events one way;
 * - echo round trip at 5,000 events/s (spoke → hub → spoke): p50/p99.
 *
 * Each row is the median of three runs (four for throughput), a ratio to the
 * raw row measured in the same run; the machine may be shared.
 */

import { createPubSub, type EnvelopeEvent } from "../../mod.ts";
import {
  connectIrohEventTarget,
  createIrohHub,
  type IrohCloseInfo,
  type IrohHubOptions,
} from "../../adapters/iroh/mod.ts";
import { iroh, skipReason } from "../../tests/iroh/load_iroh.ts";
import { echo, emptyPair, type Pair, payload, type Subject, throughput } from "./_inbound.ts";
import { batchedWriter, rawReader, rawStreams } from "./_iroh_raw.ts";
import { closeEndpoints, dial, endpoints } from "./iroh_hub.ts";

if (iroh === undefined) {
  console.log(`iroh inbound bench skipped: ${skipReason}`);
  Deno.exit(0);
}

const EVENTS = 50_000;
/** Past the announced burst and under the spoke's default outboxSize (131,072): nothing is dropped. */
const SUSTAINED_EVENTS = 100_000;
const ECHO_RATE = 5_000;
const ECHO_MS = 2_000;

/** `up`: spoke → hub; `down`: hub → spoke; `echo`: spoke → hub → spoke. */
type Mode = "up" | "down" | "echo";
type Events = { ping: unknown; pong: unknown };
type Stamped = { t?: number };

/** The hub and one spoke through the public API; the hub accepts every connection its endpoint takes. */
async function libraryPair(mode: Mode, hubOptions: IrohHubOptions = {}): Promise<Pair> {
  const hub = createIrohHub({ onError: () => {}, ...hubOptions });
  const e = await endpoints((conn) => hub.accept(conn));
  const spoke = connectIrohEventTarget(() => dial(e), { onError: () => {} });
  const atHub = createPubSub<Events>({ eventTarget: hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const pair = emptyPair();
  let closing = false;
  hub.addEventListener("ping:1", (event: EnvelopeEvent) => {
    const value = event.detail.payload as Stamped;
    if (mode === "echo") {
      if (!closing) atHub.publish("pong", "1", value);
      return;
    }
    pair.got++;
    if (value.t !== undefined) pair.times.push(performance.now() - value.t);
  });
  spoke.addEventListener("pong:1", (event: EnvelopeEvent) => {
    const value = event.detail.payload as Stamped;
    pair.got++;
    if (value.t !== undefined) pair.times.push(performance.now() - value.t);
  });
  spoke.addEventListener(
    "disconnect",
    (event) => pair.closes.push((event as unknown as CustomEvent<IrohCloseInfo>).detail.code),
  );
  await spoke.ready("pong:1");
  const at = mode === "down" ? { pubsub: atHub, type: "pong" as const } : { pubsub: atSpoke, type: "ping" as const };
  pair.send = (t) => at.pubsub.publish(at.type, "1", t === undefined ? payload : { ...payload, t });
  pair.close = async () => {
    closing = true;
    atSpoke.close();
    atHub.close();
    await spoke.close();
    await hub.close();
    await closeEndpoints(e);
  };
  return pair;
}

/** Raw streams both ways, batched writes, the same frames; the hub end echoes pings as pongs in `echo` mode. */
async function rawPair(mode: Mode): Promise<Pair> {
  const s = await rawStreams();
  const pair = emptyPair();
  const spokeWriter = batchedWriter(s.send);
  const hubWriter = batchedWriter(s.backSend);
  const count = (value: unknown) => {
    const t = (value as { payload: Stamped }).payload.t;
    pair.got++;
    if (t !== undefined) pair.times.push(performance.now() - t);
  };
  const hubReader = rawReader(
    s.recv,
    mode === "echo"
      ? (value) => hubWriter.write({ type: "pong", id: "1", payload: (value as { payload: unknown }).payload })
      : count,
  );
  const spokeReader = rawReader(s.backRecv, count);
  const writer = mode === "down" ? hubWriter : spokeWriter;
  const type = mode === "down" ? "pong" : "ping";
  pair.send = (t) => writer.write({ type, id: "1", payload: t === undefined ? payload : { ...payload, t } });
  pair.close = async () => {
    await spokeWriter.flushed();
    await s.send.finish();
    await hubReader;
    await hubWriter.flushed();
    await s.backSend.finish();
    await spokeReader;
    s.pair.clientConn.close(0n, []);
    await s.pair.close();
  };
  return pair;
}

console.log("iroh inbound path vs batched raw @number0/iroh streams, interleaved; ratios to raw");

// One section only: `deno task bench iroh-inbound` runs them all; `... scripts/bench/iroh_inbound.ts echo` one of
// throughput, sustained, down, echo.
const only = Deno.args[0];
const subjects = (mode: Mode): Subject[] => [
  ["raw (batched writeAll)", () => rawPair(mode)],
  ["library, default options", () => libraryPair(mode)],
  ...(mode === "up"
    ? [["library, hub inboundLimits: false", () => libraryPair(mode, { inboundLimits: false })]] as Subject[]
    : []),
];

if (only === undefined || only === "throughput") await throughput("Spoke → hub", EVENTS, subjects("up"));
if (only === undefined || only === "sustained") await throughput("Spoke → hub", SUSTAINED_EVENTS, subjects("up"));
if (only === undefined || only === "down") await throughput("Hub → spoke", EVENTS, subjects("down"));
if (only === undefined || only === "echo") {
  await echo("Echo round trip spoke → hub → spoke", ECHO_RATE, ECHO_MS, subjects("echo"));
}
