/**
 * The Node pass over the npm package (`deno task test node`):
 *
 * 1. Builds and checks the package (scripts/build_npm.ts: deno pack, publint, attw).
 * 2. Creates a scratch project in `.tmp/node-smoke` and runs
 *    `npm install <tarball> ioredis@^5 ws@^8 @number0/iroh@1.1.0 @nats-io/transport-node@^3 pg@^8` there.
 * 3. Type-checks a TypeScript file importing every subpath against the
 *    installed `.d.ts` (tsc from tools/, `module: nodenext`, `@types/node@20`).
 * 4. Follows README.md's "Node quick start" verbatim in `.tmp/node-quickstart` (if the section exists).
 * 5. Copies `tests/node/` into the scratch project (so `@alkdev/pubsub/...`
 *    resolves to the installed tarball, relative fixtures included) and runs
 *    `node --test` over every `tests/node/*.test.mjs`, with env `DENO` (the
 *    deno binary) and `REPO` (the repository root) so tests can start Deno hubs.
 *    Under the machine's Node, then under Node 22 from npm (`npm install node@22`
 *    into `.tmp/node22`) if that installs; each run prints node:test's TAP summary
 *    (`# pass N` / `# fail N`), which scripts/test.ts adds up.
 *
 * Usage: `deno run --allow-run --allow-read --allow-write=npm,.tmp --allow-env scripts/test_node.ts [--no-node22]`
 */

import { buildNpm } from "./build_npm.ts";
import { ignoreNotFound, rootPath, run, scratchTestFiles, setUpScratchProject } from "./npm_scratch.ts";

const smokeDir = `${rootPath}/.tmp/node-smoke`;
const node22Dir = `${rootPath}/.tmp/node22`;
/** Kills a `node --test` run that takes longer than this. */
const RUN_TIMEOUT_MS = 8 * 60_000;
/** node:test's per-test timeout, so one hung test cannot stall the pass. */
const TEST_TIMEOUT_MS = 120_000;

const started = performance.now();
const lap = (label: string, since: number) =>
  console.log(`--- ${label}: ${((performance.now() - since) / 1000).toFixed(1)} s`);

let failures = 0;
try {
  let t = performance.now();
  const { tarball } = await buildNpm();
  lap("build and checks", t);

  t = performance.now();
  await setUpScratchProject(smokeDir, tarball, "alkdev-pubsub-node-smoke");
  lap("scratch project install", t);

  t = performance.now();
  if (!(await typeCheck())) failures++;
  lap("type check", t);

  t = performance.now();
  if (!(await readmeQuickStart(tarball))) failures++;
  lap("README Node quick start", t);

  const tests = scratchTestFiles(smokeDir);
  console.log(`\nNode test files: ${tests.join(", ")}`);

  t = performance.now();
  if (!(await nodeTest("node", tests))) failures++;
  lap("node --test (machine node)", t);

  if (!Deno.args.includes("--no-node22")) {
    t = performance.now();
    const node22 = await installNode22();
    if (node22 === undefined) {
      console.log("Node 22: not available from npm here, skipped");
    } else {
      if (!(await nodeTest(node22, tests))) failures++;
      lap("node --test (node 22)", t);
    }
  }
} catch (error) {
  console.error(`\nNode pass failed: ${error instanceof Error ? error.message : error}`);
  failures++;
}
lap("whole node pass", started);
Deno.exit(failures === 0 ? 0 : 1);

/** tsc over a file importing every subpath: the shipped `.d.ts` must hold up for a Node TypeScript user. */
async function typeCheck(): Promise<boolean> {
  const config = JSON.parse(await Deno.readTextFile(`${rootPath}/deno.json`));
  const subpaths = Object.keys(config.exports as Record<string, string>);
  const lines = subpaths.map((subpath, i) =>
    `import * as m${i} from "${subpath === "." ? config.name : `${config.name}/${subpath.slice(2)}`}";`
  );
  lines.push(`export const all = [${subpaths.map((_, i) => `m${i}`).join(", ")}];`);
  lines.push(
    `import { createPubSub } from "${config.name}";`,
    `const pubsub = createPubSub<{ ping: number }>();`,
    `const sub = pubsub.subscribe("ping", "1");`,
    `pubsub.publish("ping", "1", 1);`,
    `const first: IteratorResult<number, undefined> = await sub.next();`,
    `// @ts-expect-error the payload type is checked`,
    `pubsub.publish("ping", "1", "not a number");`,
    `export { first };`,
  );
  await Deno.writeTextFile(`${smokeDir}/typecheck.ts`, lines.join("\n") + "\n");
  const args = [
    "--noEmit",
    "--strict",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--target",
    "es2022",
    "--lib",
    "es2022,esnext.disposable",
    "--types",
    "node",
    "typecheck.ts",
  ];
  console.log(`\n=== tsc ${args.join(" ")}`);
  const { code, stdout } = await run(`${rootPath}/tools/node_modules/.bin/tsc`, args, smokeDir, true, true);
  const errors = stdout.split("\n").filter((line) => /error TS\d+/.test(line));
  // Errors in the consumer file or inside the shipped .d.ts (checked with skipLibCheck: false, no DOM lib) fail the
  // pass: a Node user with strict settings must be able to compile against the package.
  if (errors.length > 0 || code !== 0) {
    console.log(stdout.trimEnd());
    console.error(`type check: FAILED (exit ${code})`);
    return false;
  }
  console.log("type check: the consumer file and the shipped .d.ts are clean");
  return true;
}

/**
 * Follows README.md's "## Node quick start" verbatim in a fresh folder holding the tarball: runs its `sh` block
 * line by line, saves its `js` block as quickstart.mjs, runs it with the machine's node, and compares what it prints
 * with the `// value` comments on its console.log lines.
 */
async function readmeQuickStart(tarball: string): Promise<boolean> {
  const readme = await Deno.readTextFile(`${rootPath}/README.md`);
  const section = readme.split(/^## Node quick start$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) {
    console.log('\nREADME.md has no "## Node quick start" section: quick start check skipped');
    return true;
  }
  const sh = section.match(/```sh\n([\s\S]*?)```/)?.[1];
  const js = section.match(/```js\n([\s\S]*?)```/)?.[1];
  if (sh === undefined || js === undefined) {
    console.error("README's Node quick start needs a ```sh and a ```js block");
    return false;
  }
  const dir = `${rootPath}/.tmp/node-quickstart`;
  console.log(`\n=== README Node quick start, verbatim, in ${dir}`);
  await Deno.remove(dir, { recursive: true }).catch(ignoreNotFound);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(tarball, `${dir}/${tarball.split("/").pop()}`);
  for (const line of sh.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))) {
    console.log(`$ ${line}`);
    const { code } = await run("sh", ["-c", line], dir, true, true);
    if (code !== 0) {
      console.error(`quick start: \`${line}\` exited with ${code}`);
      return false;
    }
  }
  await Deno.writeTextFile(`${dir}/quickstart.mjs`, js);
  console.log("$ node quickstart.mjs");
  const { code, stdout } = await run("node", ["quickstart.mjs"], dir, true);
  const expected = [...js.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1].trim());
  const printed = stdout.trim().split("\n").map((l) => l.trim());
  if (code !== 0 || JSON.stringify(printed) !== JSON.stringify(expected)) {
    console.error(
      `quick start: exit ${code}, printed ${JSON.stringify(printed)}, README says ${JSON.stringify(expected)}`,
    );
    return false;
  }
  console.log("quick start: followed verbatim, prints what the README says");
  return true;
}

async function nodeTest(node: string, files: string[]): Promise<boolean> {
  const version = (await run(node, ["--version"], smokeDir, true, true)).stdout.trim();
  const args = ["--test", "--test-reporter=tap", `--test-timeout=${TEST_TIMEOUT_MS}`, ...files];
  console.log(`\n=== node ${version}: node ${args.join(" ")}`);
  const child = new Deno.Command(node, {
    args,
    cwd: smokeDir,
    stdout: "inherit",
    stderr: "inherit",
    env: { DENO: Deno.execPath(), REPO: rootPath, NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    console.error(`node --test under ${version} exceeded ${RUN_TIMEOUT_MS / 60_000} min, killing it`);
    child.kill("SIGKILL");
  }, RUN_TIMEOUT_MS);
  const { code } = await child.status;
  clearTimeout(timer);
  console.log(`node ${version}: exit ${code}`);
  return code === 0;
}

/** `npm install node@22` into .tmp/node22 (reused when present); the path of its node binary, or undefined. */
async function installNode22(): Promise<string | undefined> {
  const binary = `${node22Dir}/node_modules/node/bin/node`;
  if (await isNode22(binary)) return binary;
  console.log(`\n=== npm install node@22 (into ${node22Dir})`);
  await Deno.remove(node22Dir, { recursive: true }).catch(ignoreNotFound);
  await Deno.mkdir(node22Dir, { recursive: true });
  await Deno.writeTextFile(`${node22Dir}/package.json`, '{ "private": true }\n');
  const { code } = await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", "node@22"],
    node22Dir,
    true,
  );
  return code === 0 && await isNode22(binary) ? binary : undefined;
}

async function isNode22(binary: string): Promise<boolean> {
  try {
    const { code, stdout } = await new Deno.Command(binary, { args: ["--version"], stdout: "piped", stderr: "null" })
      .output();
    return code === 0 && new TextDecoder().decode(stdout).startsWith("v22.");
  } catch {
    return false;
  }
}
