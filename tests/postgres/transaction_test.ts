/**
 * Publishing in the same transaction as the data: a rolled-back transaction delivers nothing; a committed one
 * delivers once, after the commit, together with the data it wrote.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { notifyQuery, publishIn } from "../../adapters/postgres/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { pgClient, pgTarget, uniquePrefix } from "./_helpers.ts";

type Events = { "job.progress": number };

Deno.test("postgres: publishIn inside a transaction delivers once after COMMIT and nothing on ROLLBACK", async () => {
  const prefix = uniquePrefix("tx");
  const side = await pgTarget({ prefix });
  const tx = await pgClient();
  const table = `alk_jobs_${crypto.randomUUID().slice(0, 8)}`;
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  const seen: { value: number; progressInTable: number }[] = [];
  try {
    await tx.query(`CREATE TABLE "${table}" (id text PRIMARY KEY, progress int)`);
    await tx.query(`INSERT INTO "${table}" VALUES ('42', 0)`);
    const reader = await pgClient();
    const sub = pubsub.subscribe("job.progress", "42");
    await pubsub.ready("job.progress", "42");
    const consume = (async () => {
      for await (const value of sub) {
        // The data is visible to another connection by the time the event arrives.
        const row = await reader.query(`SELECT progress FROM "${table}" WHERE id = '42'`);
        seen.push({ value, progressInTable: row.rows[0].progress });
        if (value === 100) break;
      }
    })();

    // Rolled back: the row keeps 0, and no event.
    await tx.query("BEGIN");
    await tx.query(`UPDATE "${table}" SET progress = 10 WHERE id = '42'`);
    await side.target.publishIn(tx, "job.progress", "42", 10);
    await tx.query("ROLLBACK");

    // Committed: nothing before COMMIT (even after a while), then exactly one event.
    await tx.query("BEGIN");
    await tx.query(`UPDATE "${table}" SET progress = 50 WHERE id = '42'`);
    await publishIn(tx, "job.progress", "42", 50, { prefix });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, 0);
    await tx.query("COMMIT");

    // notifyQuery's SQL and parameters, run as a query config object.
    await tx.query("BEGIN");
    await tx.query(`UPDATE "${table}" SET progress = 100 WHERE id = '42'`);
    const query = notifyQuery("job.progress", "42", 100, { prefix });
    assert.equal(query.text, "SELECT pg_notify($1, $2)");
    await tx.query(query.text, query.values);
    await tx.query("COMMIT");

    await consume;
    assert.deepEqual(seen.map((s) => s.value), [50, 100]);
    // When each event arrived its transaction's write was visible (a later commit may already show too).
    for (const { value, progressInTable } of seen) assert.ok(progressInTable >= value, `${progressInTable} < ${value}`);
    // And nothing more comes.
    const again = pubsub.subscribe("job.progress", "42");
    await pubsub.ready("job.progress", "42");
    await assert.rejects(nextWithin(again, 300));
    await again.return(undefined);
    await reader.end();
    assert.deepEqual(side.collected.errors, []);
  } finally {
    pubsub.close();
    await tx.query(`DROP TABLE IF EXISTS "${table}"`);
    await tx.end();
    await side.close();
  }
});
