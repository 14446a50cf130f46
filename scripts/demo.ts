/**
 * `deno task demo`: a hub and two spokes share one typed event map over the
 * in-process transport, with a few operators. Needs no service and no
 * permissions.
 */

import { createPubSub, filter, map, pipe, take } from "../mod.ts";
import { createInProcessEventTarget } from "../adapters/in_process/mod.ts";

/** The event map every party shares: event type → payload type. */
type Events = {
  "job.progress": { percent: number; worker: string };
  "chat.message": { from: string; text: string };
};

const bus = createInProcessEventTarget();
const hub = createPubSub<Events>({ eventTarget: bus });
const spokeA = createPubSub<Events>({ eventTarget: bus });
const spokeB = createPubSub<Events>({ eventTarget: bus });

const log = (who: string, line: string) => console.log(`${who.padEnd(8)} ${line}`);

// The hub watches job-1, but only for milestones of 50% and up, and stops after two.
const milestones = pipe(
  hub.subscribe("job.progress", "job-1"),
  filter((p) => p.percent >= 50),
  map((p) => `job-1 at ${p.percent}% (reported by ${p.worker})`),
  take(2),
);

// Spoke B follows the lobby chat; ids scope events, so "lobby" never sees "ops".
const lobby = spokeB.subscribe("chat.message", "lobby");

// Spoke A does the work and reports progress; spoke B chats.
for (const percent of [0, 25, 50, 75, 100]) {
  log("spoke-a", `publish job.progress job-1 ${percent}%`);
  spokeA.publish("job.progress", "job-1", { percent, worker: "spoke-a" });
}
spokeA.publish("chat.message", "ops", { from: "spoke-a", text: "only ops sees this" });
spokeA.publish("chat.message", "lobby", { from: "spoke-a", text: "job-1 is nearly done" });
hub.publish("chat.message", "lobby", { from: "hub", text: "thanks!" });

for await (const line of milestones) log("hub", `got ${line}`);
log("hub", "took two milestones; its subscription is closed");

let seen = 0;
for await (const message of lobby) {
  log("spoke-b", `lobby <${message.from}> ${message.text}`);
  if (++seen === 2) break;
}

hub.close();
spokeA.close();
spokeB.close();
log("demo", `done; listeners left on the bus: ${bus.listenerCount()}`);
