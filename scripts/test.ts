/**
 * Runs every test group with its own, minimal permissions and prints one
 * closing line `N passed, N failed` (tests and steps counted together).
 *
 * Usage: `deno task test [group ...]`; with no names, all groups run.
 * Groups whose test folder does not exist yet are skipped.
 */

const root = new URL("..", import.meta.url);
const deno = Deno.execPath();
const pgBin = Deno.env.get("PG_BIN") ?? "/usr/lib/postgresql/15/bin";

interface Group {
  name: string;
  /** Folders or files under tests/. */
  paths: string[];
  /** `deno test` permission flags: explicit and minimal, never -A. */
  permissions: string[];
  /** Needs tools/node_modules (iroh addon, playwright-core, Deno's own npm binary). */
  needsTools?: boolean;
  /** A custom command instead of `deno test`; its output must hold Deno's or node:test's summary. */
  command?: string[];
}

/** A pass over the npm package (build, install, run): its script runs with these flags. */
function npmPass(script: string): string[] {
  return [deno, "run", "--allow-run", "--allow-read", "--allow-write=npm,.tmp", "--allow-env", script];
}

const groups: Group[] = [
  { name: "core", paths: ["tests/core"], permissions: ["--allow-read=."] },
  { name: "operators", paths: ["tests/operators"], permissions: ["--allow-read=."] },
  // The conformance kit (@alkdev/pubsub/testing) itself, and the third-party adapter example of docs/architecture/testing.md.
  { name: "testing", paths: ["tests/testing"], permissions: ["--allow-read=."] },
  {
    name: "redis",
    paths: ["tests/redis"],
    permissions: [
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-run=redis-server,redis-cli",
      "--allow-write=.tmp",
    ],
  },
  {
    name: "websocket",
    paths: ["tests/websocket"],
    // node: the Chromium driver; this deno binary: the Deno hub processes of hub_test.ts (the shared hub test bodies
    // of tests/runtimes/hub.ts, from source), the hub and attacker processes of abuse_test.ts (they get their own,
    // explicit permissions there) and browser_skip_test.ts (the browser test run without Chromium); env: ioredis (its
    // `debug` dependency lists every variable), for the Redis upstream in upstream_test.ts and hub_test.ts, and CI
    // and CHROMIUM_PATH for the browser test, which outside CI skips when Chromium is missing; read: Chromium's path.
    permissions: [
      "--allow-net=127.0.0.1",
      `--allow-read=.,${Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium"}`,
      "--allow-env",
      `--allow-run=node,${deno}`,
    ],
    needsTools: true,
  },
  {
    name: "iroh",
    paths: ["tests/iroh"],
    // The native addon opens its sockets itself (--allow-ffi), so no --allow-net; /usr/bin/ldd and the
    // NAPI_RS_* variables are what its loader reads to pick the glibc build.
    // This deno binary: the hub processes of hub_abuse_test.ts (they get their own, explicit permissions there).
    permissions: [
      "--allow-ffi",
      "--allow-read=.,/usr/bin/ldd",
      "--allow-env=CI,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI",
      `--allow-run=${deno}`,
    ],
    needsTools: true,
  },
  {
    // One process hosting a WebSocket hub and an iroh hub over one upstream, a Chromium spoke and an iroh spoke.
    name: "mixed",
    paths: ["tests/mixed"],
    permissions: [
      "--allow-ffi",
      "--allow-net=127.0.0.1",
      `--allow-read=.,/usr/bin/ldd,${Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium"}`,
      "--allow-env=CI,CHROMIUM_PATH,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI",
      "--allow-run=node",
    ],
    needsTools: true,
  },
  { name: "worker", paths: ["tests/worker"], permissions: ["--allow-read=."] },
  {
    // The shared server at 127.0.0.1:4222 (NATS_URL), and private nats-servers on free ports for the restart
    // and cleanup tests (their monitoring endpoints answer over HTTP on 127.0.0.1).
    name: "nats",
    paths: ["tests/nats"],
    permissions: ["--allow-net=127.0.0.1", "--allow-env=NATS_URL", "--allow-run=nats-server"],
  },
  {
    // The shared server at 127.0.0.1:5432 (PG_URL), psql for a third party's NOTIFY, and private servers on free
    // ports for the restart test: initdb and pg_ctl from PG_BIN, through runuser when run as root (PostgreSQL
    // refuses to run as root; uid is how the tests know), mktemp and rm for the data directory. env: pg reads
    // the PG* variables.
    name: "postgres",
    paths: ["tests/postgres"],
    permissions: [
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read=.",
      "--allow-sys=uid",
      `--allow-run=psql,runuser,mktemp,rm,${pgBin}/initdb,${pgBin}/pg_ctl`,
    ],
  },
  {
    // Builds the npm package (deno pack, publint, attw), installs the tarball in .tmp/node-smoke and runs
    // node --test over tests/node/*.test.mjs under Node 20 and Node 22 (from npm): two node:test summaries.
    name: "node",
    paths: ["tests/node"],
    permissions: [],
    needsTools: true,
    command: npmPass("scripts/test_node.ts"),
  },
  {
    // Builds the npm package, installs it in .tmp/bun-smoke, runs `bun test` over tests/node/*.test.mjs (the library
    // under Bun), then tests/runtimes/ (the shared hub test bodies against the Node and Bun hubs, each in a child
    // process; the websocket group runs them against the Deno hub): a Bun summary and a Deno summary.
    name: "bun",
    paths: ["tests/runtimes"],
    permissions: [],
    needsTools: true,
    command: npmPass("scripts/test_bun.ts"),
  },
];

const wanted = new Set(Deno.args);
let passed = 0;
let failed = 0;
const summary: string[] = [];

for (const group of groups) {
  if (wanted.size > 0 && !wanted.has(group.name)) continue;
  const existing = group.paths.filter((p) => exists(p));
  if (existing.length === 0 && group.command === undefined) {
    summary.push(`${group.name}: skipped (no tests yet)`);
    continue;
  }
  if (group.needsTools) await ensureTools();
  const args = group.command ?? ["test", ...group.permissions, ...existing];
  const [cmd, ...rest] = group.command ? args : [deno, ...args];
  console.log(`\n=== ${group.name}: ${[cmd === deno ? "deno" : cmd, ...rest].join(" ")}`);
  const result = await run(cmd, rest);
  const counts = parseCounts(result.output);
  if (counts === undefined) {
    failed++;
    summary.push(`${group.name}: no summary line (exit ${result.code}), counted as 1 failure`);
    continue;
  }
  passed += counts.passed;
  failed += counts.failed;
  if (result.code !== 0 && counts.failed === 0) {
    failed++;
    summary.push(`${group.name}: exited ${result.code} with no failed test, counted as 1 failure`);
  } else {
    summary.push(`${group.name}: ${counts.passed} passed, ${counts.failed} failed`);
  }
}

console.log("\n" + summary.join("\n"));
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 && passed > 0 ? 0 : 1);

function exists(path: string): boolean {
  try {
    Deno.statSync(new URL(path, root));
    return true;
  } catch {
    return false;
  }
}

async function ensureTools(): Promise<void> {
  if (
    exists("tools/node_modules/@number0/iroh") && exists("tools/node_modules/playwright-core") &&
    exists("tools/node_modules/.bin/bun")
  ) return;
  console.log(
    "Installing tools/ (npm install; npm ci refuses the lock file because some optional iroh platform packages are missing from the registry) ...",
  );
  const npm = Deno.build.os === "windows" ? "npm.cmd" : "npm";
  const { code } = await new Deno.Command(npm, {
    args: ["install", "--prefix", "tools", "--no-audit", "--no-fund"],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`npm ci in tools/ failed with exit code ${code}`);
}

async function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, sink: { write(p: Uint8Array): Promise<number> }) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  return { code, output };
}

/**
 * Adds up every summary in a group's output: Deno's `ok | 3 passed (5 steps) | 1 failed (2 steps)`, node:test's
 * `# pass N` / `# fail N`, and `bun test`'s ` N pass` / ` N fail`.
 */
function parseCounts(output: string): { passed: number; failed: number } | undefined {
  // deno-lint-ignore no-control-regex
  const text = output.replace(/\x1b\[[0-9;]*m/g, "");
  let found = false;
  let passed = 0;
  let failed = 0;
  for (
    const m of text.matchAll(
      /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/gm,
    )
  ) {
    found = true;
    passed += Number(m[1]) + Number(m[2] ?? 0);
    failed += Number(m[3]) + Number(m[4] ?? 0);
  }
  // One summary per node:test run (the node group runs Node 20 and Node 22), and per bun test run.
  for (const [pass, fail] of [[/^# pass (\d+)$/gm, /^# fail (\d+)$/gm], [/^ (\d+) pass$/gm, /^ (\d+) fail$/gm]]) {
    const passes = [...text.matchAll(pass)];
    const fails = [...text.matchAll(fail)];
    if (passes.length === 0 || passes.length !== fails.length) continue;
    found = true;
    passed += passes.reduce((n, m) => n + Number(m[1]), 0);
    failed += fails.reduce((n, m) => n + Number(m[1]), 0);
  }
  return found ? { passed, failed } : undefined;
}
