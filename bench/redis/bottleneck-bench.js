// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Bottleneck side of redis-bench: one process of a cluster of limiters
// sharing `maxConcurrent` through Redis (Bottleneck's clustering mode, on
// ioredis), doing what a redis-holder worker of the bench does. Run by
// redis-bench, never on its own:
//
//   node bottleneck-bench.js MODE SOCKET ID LIMIT JOBS PIN OUT
//
// MODE throughput: JOBS no-op jobs; writes `T <first> <last> <jobs>`.
// MODE wake: PIN jobs that hold their slot, then JOBS no-op jobs, each
// writing `S <time>` as it starts and `E <time>` as it ends, `P <time>` once
// the PIN jobs run and `D <time>` when the no-op jobs are done. Times are the
// monotonic clock in µs, which libuv and GLib read alike.
//
// Bottleneck and ioredis are installed in the build folder by the
// `bench-redis-node-deps` target, never as a dependency of the library.

'use strict';

const fs = require('fs');
const readline = require('readline');
const Bottleneck = require('bottleneck');

const [mode, socket, id, limit, jobs, pin, out] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint() / 1000n);

function waitForGo() {
  return new Promise((resolve) => {
    const lines = readline.createInterface({ input: process.stdin });
    lines.once('line', () => {
      lines.close();
      resolve();
    });
  });
}

async function throughput(limiter, lines) {
  let first = 0;
  const job = () => {
    if (first === 0)
      first = now();
    return Promise.resolve();
  };
  const all = [];
  for (let i = 0; i < Number(jobs); i++)
    all.push(limiter.schedule(job));
  await Promise.all(all);
  lines.push(`T ${first} ${now()} ${jobs}`);
}

async function wake(limiter, lines) {
  let release;
  let running = 0;
  let pinnedResolve;
  const held = new Promise((resolve) => { release = resolve; });
  const pinned = new Promise((resolve) => { pinnedResolve = resolve; });
  const pins = [];
  for (let i = 0; i < Number(pin); i++) {
    pins.push(limiter.schedule(() => {
      if (++running === Number(pin)) {
        lines.push(`P ${now()}`);
        pinnedResolve();
      }
      return held;
    }));
  }
  if (Number(pin) === 0)
    pinnedResolve();
  await pinned;

  const stream = [];
  for (let i = 0; i < Number(jobs); i++) {
    stream.push(limiter.schedule(() => {
      lines.push(`S ${now()}`);
      lines.push(`E ${now()}`);
      return Promise.resolve();
    }));
  }
  await Promise.all(stream);
  lines.push(`D ${now()}`);
  release();
  await Promise.all(pins);
}

// Once the results are written, what Bottleneck does as its connections
// close (a heartbeat, a late command) no longer matters
let written = false;

function fail(error) {
  if (written)
    process.exit(0);
  console.error(error);
  process.exit(1);
}

async function main() {
  const limiter = new Bottleneck({
    id,
    maxConcurrent: Number(limit),
    datastore: 'ioredis',
    clearDatastore: false,
    clientOptions: { path: socket },
  });
  limiter.on('error', fail);
  await limiter.ready();
  process.stdout.write('ready\n');
  await waitForGo();

  const lines = [];
  if (mode === 'throughput')
    await throughput(limiter, lines);
  else
    await wake(limiter, lines);
  fs.writeFileSync(out, lines.join('\n') + '\n');
  written = true;
  await limiter.disconnect();
  // Bottleneck's timers would keep the process alive
  process.exit(0);
}

main().catch(fail);
