// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A thread job written in JavaScript, submitted through introspection (raw GI, without
// taskpool.js): GJS runs JavaScript on its main thread only, so it refuses to call the job on
// the pool's worker thread and the job never completes its task. That must fail the job with a
// clear GLib.Error — never crash the process — and free the worker. The job's data, which GJS
// can release only on its own thread, is released on the pool's context, not on the worker.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.TaskPool = '1.0';
const {GLib, TaskPool} = imports.gi;
const System = imports.system;

let failures = 0;
let checks = 0;

function check(condition, what) {
    checks++;
    if (!condition) {
        failures++;
        printerr(`not ok ${checks} - ${what}`);
    } else {
        print(`ok ${checks} - ${what}`);
    }
}

function iterateUntil(condition) {
    const context = GLib.MainContext.default();
    while (!condition())
        context.iteration(true);
}

function outcomeOf(submit) {
    const outcomes = [];
    submit((pool, result) => {
        try {
            outcomes.push(pool.submit_value_finish(result));
        } catch (e) {
            outcomes.push(e);
        }
    });
    iterateUntil(() => outcomes.length > 0);
    return outcomes[0];
}

const pool = TaskPool.Pool.new('fixed-simple');
pool.start();
let called = 0;
const threadJob = task => {
    called++;
    task.return_value('ran on a thread');
};
const options = TaskPool.JobOptions.new();
options.set_flags(TaskPool.SubmitFlags.IN_THREAD);

const submissions = {
    'submit_in_thread_async': done => pool.submit_in_thread_async(threadJob, null, done),
    'submit_full_async (IN_THREAD)': done => pool.submit_full_async(
        TaskPool.SubmitFlags.IN_THREAD, 0, threadJob, null, done),
    'submit_with_options_async (IN_THREAD)': done => pool.submit_with_options_async(
        options, threadJob, null, done),
};
for (const [name, submit] of Object.entries(submissions)) {
    const error = outcomeOf(submit);
    check(error instanceof GLib.Error &&
        error.matches(TaskPool.PoolError, TaskPool.PoolError.JOB_LOST),
    `${name}: fails with TaskPool.PoolError.JOB_LOST`);
    check(error instanceof GLib.Error && /thread/.test(error.message),
        `${name}: the message says the job could not run on a thread (${error?.message})`);
    // The worker is free: an async job runs
    const value = outcomeOf(done => pool.submit_async(task => task.return_value(42), null, done));
    check(value === 42, `${name}: the worker is free again`);
}
check(called === 0, 'GJS called no job on a thread');
check(pool.failed === 3 && pool.succeeded === 3, 'the lost thread jobs count as failed');

print(`1..${checks}`);
System.exit(failures === 0 ? 0 : 1);
