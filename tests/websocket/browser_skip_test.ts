/**
 * The browser test on a machine without Chromium: outside CI it is skipped
 * with a message that says how to install Chromium; under CI=true it fails.
 * Runs the real test file in a child `deno test` with CHROMIUM_PATH pointing
 * at nothing.
 */

import assert from "node:assert/strict";

async function runBrowserTest(ci: string): Promise<{ code: number; output: string }> {
  const file = new URL("./browser_test.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--allow-net=127.0.0.1",
      "--allow-read=.",
      "--allow-env=CI,CHROMIUM_PATH",
      "--allow-run=node",
      "--no-check",
      file,
    ],
    env: { CI: ci, CHROMIUM_PATH: "/nonexistent/chromium", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test("websocket browser: without Chromium, outside CI the test is skipped with install instructions", async () => {
  const { code, output } = await runBrowserTest("");
  assert.equal(code, 0, output);
  assert.match(output, /0 passed \| 0 failed \| 2 ignored/); // both browser tests
  assert.match(output, /Skipping the browser test: no Chromium at \/nonexistent\/chromium/);
  assert.match(output, /apt-get install chromium/);
});

Deno.test("websocket browser: without Chromium, under CI=true the test fails", async () => {
  const { code, output } = await runBrowserTest("true");
  assert.notEqual(code, 0, output);
  assert.match(output, /0 passed \| 2 failed/);
  assert.match(output, /CI=true and no Chromium at \/nonexistent\/chromium/);
});
