/**
 * The Bun pass (`deno task test bun`):
 *
 * 1. Builds and checks the npm package (scripts/build_npm.ts) and installs the
 *    tarball in a scratch project, `.tmp/bun-smoke` (scripts/npm_scratch.ts).
 * 2. The library under Bun: `bun test` over `tests/node/*.test.mjs` (core,
 *    operators, the conformance kit, Redis, NATS, the WebSocket spoke, Worker,
 *    iroh), with env `DENO` and `REPO` as under Node. Bun prints ` N pass` /
 *    ` N fail`, which scripts/test.ts adds up.
 * 3. The hub on Node and Bun: `deno test tests/runtimes/` with env
 *    `PUBSUB_SCRATCH` (the scratch project) and `BUN`, running the shared hub
 *    test bodies (tests/runtimes/hub.ts) against the package's hub on Node
 *    (`ws`) and Bun (`Bun.serve`, native fan-out), each in a child process.
 *    The websocket group runs the same bodies against the Deno hub.
 *
 * Bun comes from the npm package `bun` in tools/ (`npm install --prefix tools`).
 *
 * Usage: `deno run --allow-run --allow-read --allow-write=npm,.tmp --allow-env scripts/test_bun.ts`
 */

import { buildNpm } from "./build_npm.ts";
import { rootPath, scratchTestFiles, setUpScratchProject } from "./npm_scratch.ts";

const scratch = `${rootPath}/.tmp/bun-smoke`;
const bun = `${rootPath}/tools/node_modules/.bin/bun`;
/** Kills a run that takes longer than this. */
const RUN_TIMEOUT_MS = 8 * 60_000;

let failures = 0;
try {
  const { tarball } = await buildNpm();
  await setUpScratchProject(scratch, tarball, "alkdev-pubsub-bun-smoke");
  const tests = scratchTestFiles(scratch).map((file) => `./${file}`);
  const version = (await new Deno.Command(bun, { args: ["--version"], stdout: "piped" }).output()).stdout;
  console.log(`\n=== bun ${new TextDecoder().decode(version).trim()}: bun test ${tests.join(" ")}`);
  if (!(await pass(bun, ["test", "--timeout", "120000", ...tests], scratch))) failures++;
  const realBun = Deno.realPathSync(bun);
  const args = [
    "test",
    "--allow-net=127.0.0.1",
    // Chromium's path: the browser spoke against the Bun hub.
    `--allow-read=${rootPath},${Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium"}`,
    "--allow-env",
    `--allow-run=node,${bun},${realBun},${Deno.execPath()}`,
    `${rootPath}/tests/runtimes/`,
  ];
  console.log(`\n=== the hub on Node and Bun: deno ${args.join(" ")}`);
  if (!(await pass(Deno.execPath(), args, rootPath))) failures++;
} catch (error) {
  console.error(`\nBun pass failed: ${error instanceof Error ? error.message : error}`);
  failures++;
}
Deno.exit(failures === 0 ? 0 : 1);

async function pass(cmd: string, args: string[], cwd: string): Promise<boolean> {
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
    env: { DENO: Deno.execPath(), REPO: rootPath, PUBSUB_SCRATCH: scratch, BUN: bun, NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    console.error(`${cmd} ${args[0]} exceeded ${RUN_TIMEOUT_MS / 60_000} min, killing it`);
    child.kill("SIGKILL");
  }, RUN_TIMEOUT_MS);
  const { code } = await child.status;
  clearTimeout(timer);
  return code === 0;
}
