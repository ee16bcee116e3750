// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GJS module taskpool.js (suite `gir`, run with `gjs -m`): Promises from submit(), a job
// that throws rejects at once with what it threw, the six kinds, order, bound, pause, scale and
// close, the options of a job (key, weight, queueTimeout, runTimeout, label), and thread jobs
// refused at submission. Nothing sleeps to wait: the test awaits Promises that jobs settle,
// and checks order and counts, never durations.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';

import {Pool, TaskPool} from '../../bindings/gjs/taskpool.js';

const KINDS = ['fixed-simple', 'fixed-lifo', 'fixed-priority',
    'autoscale-simple', 'autoscale-lifo', 'autoscale-priority'];

let failures = 0;
let checks = 0;

function check(condition, what) {
    checks++;
    if (condition) {
        print(`ok ${checks} - ${what}`);
    } else {
        failures++;
        print(`not ok ${checks} - ${what}`);
    }
}

function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
}

function deferred() {
    const result = {settled: false};
    result.promise = new Promise((resolve, reject) => {
        result.resolve = value => {
            result.settled = true;
            resolve(value);
        };
        result.reject = reason => {
            result.settled = true;
            reject(reason);
        };
    });
    return result;
}

// Settles with what a Promise rejected with, or fails the check when it resolved
async function rejection(promise) {
    try {
        await promise;
    } catch (reason) {
        return reason;
    }
    return undefined;
}

function isPoolError(error, code) {
    return error instanceof GLib.Error && error.matches(TaskPool.PoolError, code);
}

function sized(kind, size) {
    return kind.startsWith('fixed-') ? {size} : {minSize: 1, maxSize: size};
}

// A job that holds a worker until released; resolved once it runs
async function holding(pool) {
    const started = deferred();
    const release = deferred();
    const job = pool.submit(() => {
        started.resolve();
        return release.promise.then(() => 'held');
    });
    await started.promise;
    return {job, release};
}

async function testKinds() {
    for (const kind of KINDS) {
        const pool = new Pool(kind, sized(kind, 2));
        check(pool.kind === kind && pool.paused, `${kind}: made, not started`);
        pool.start();
        check(await pool.submit(() => 'ok:e done') === 'ok:e done', `${kind}: a value`);
        check(await pool.submit(async () => 42) === 42, `${kind}: a Promise`);
        check(await pool.submit(() => undefined) === undefined, `${kind}: undefined`);
        await pool.close();
        check(pool.closed && pool.paused, `${kind}: closed`);
    }
}

async function testThrowRejectsAtOnce(what, failing, error) {
    const pool = new Pool('fixed-simple', {size: 2});
    pool.start();
    const holder = await holding(pool);
    let holderSettled = false;
    holder.job.then(() => {
        holderSettled = true;
    });
    const reason = await rejection(pool.submit(failing));
    check(reason === error, `${what}: rejected with the same value`);
    check(!holderSettled && pool.running === 1, `${what}: rejected while another job runs`);
    check(await pool.submit(() => 'freed') === 'freed' && !holderSettled,
        `${what}: its worker is free at once`);
    holder.release.resolve();
    check(await holder.job === 'held', `${what}: the other job ends`);
    await pool.close();
}

async function testBound() {
    for (const kind of KINDS) {
        const pool = new Pool(kind, sized(kind, 3));
        pool.start();
        const release = deferred();
        const reached = deferred();
        let running = 0;
        let peak = 0;
        const jobs = [];
        for (let i = 0; i < 10; i++) {
            jobs.push(pool.submit(async () => {
                running++;
                peak = Math.max(peak, running);
                if (running === 3)
                    reached.resolve();
                await release.promise;
                running--;
                return i;
            }));
        }
        await reached.promise;
        check(pool.running === 3 && pool.waiting === 7, `${kind}: 3 run, 7 wait`);
        release.resolve();
        const results = await Promise.all(jobs);
        check(same(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) && peak === 3,
            `${kind}: at most 3 at once`);
        await pool.close();
    }
}

async function testOrder(kind, expected) {
    const pool = new Pool(kind, sized(kind, 1));
    pool.start();
    const holder = await holding(pool);
    const order = [];
    const jobs = [5, 1, 4, 1, 3, 2].map((weight, index) =>
        pool.submit(() => order.push(index), {weight}));
    holder.release.resolve();
    await Promise.all([holder.job, ...jobs]);
    check(same(order, expected), `${kind}: order ${order}`);
    await pool.close();
}

async function testPauseScaleClose() {
    const pool = new Pool('fixed-simple', {size: 1});
    check(await pool.scale(2) === 3 && pool.size === 3, 'scale before start sets the start size');
    check(isPoolError(await rejection(pool.submit(() => 1)), TaskPool.PoolError.NOT_ACCEPTING),
        'a pool not started refuses jobs');
    pool.start();
    check(pool.size === 3, 'starts with 3 workers');
    check(await pool.scale(2) === 5 && pool.size === 5, 'scale(2) reaches 5');
    check(await pool.scale(-4) === 1 && pool.size === 1, 'scale(-4) reaches 1');
    check(pool.pause() === true && pool.paused, 'pause() pauses');
    check(isPoolError(await rejection(pool.submit(() => 1)), TaskPool.PoolError.NOT_ACCEPTING),
        'a paused pool refuses jobs');
    check(pool.pause() === false && !pool.paused, 'pause() again resumes');

    const holder = await holding(pool);
    const queued = [pool.submit(() => 'a'), pool.submit(() => 'b')];
    const closed = pool.close({discardQueued: true});
    for (const job of queued) {
        check(isPoolError(await rejection(job), TaskPool.PoolError.CLOSED),
            'close({discardQueued: true}) fails queued jobs with CLOSED');
    }
    holder.release.resolve();
    await closed;
    check(await holder.job === 'held', 'the running job ends');
    let threw = false;
    try {
        pool.start();
    } catch {
        threw = true;
    }
    check(threw, 'a closed pool cannot start again');

    const draining = new Pool('fixed-simple', {size: 1});
    draining.start();
    const first = await holding(draining);
    const rest = [draining.submit(() => 1), draining.submit(() => 2)];
    const drained = draining.close();
    check(isPoolError(await rejection(draining.submit(() => 3)), TaskPool.PoolError.NOT_ACCEPTING),
        'a closing pool refuses jobs');
    first.release.resolve();
    await drained;
    check(same(await Promise.all(rest), [1, 2]), 'close() runs the queued jobs first');
}

async function testQueueCapacity() {
    const pool = new Pool('fixed-simple', {size: 1, queueCapacity: 1});
    pool.start();
    const holder = await holding(pool);
    const queued = pool.submit(() => 'queued');
    check(isPoolError(await rejection(pool.submit(() => 1, {noWait: true})),
        TaskPool.PoolError.FULL), 'noWait on a full queue rejects with FULL');
    const waits = pool.submit(() => 'waited');
    check(pool.waiting === 1, 'a submission to a full queue waits for room');
    holder.release.resolve();
    check(same(await Promise.all([holder.job, queued, waits]), ['held', 'queued', 'waited']),
        'the waiting submission runs once there is room');
    await pool.close();
}

function testRefused() {
    let error = null;
    try {
        new Pool('fixed-simple', {bogusKey: 1});
    } catch (e) {
        error = e;
    }
    check(isPoolError(error, TaskPool.PoolError.CONFIG) && error.message.includes('bogus-key'),
        'an unknown option fails with CONFIG, naming it');
    error = null;
    try {
        new Pool('fixed-nothing');
    } catch (e) {
        error = e;
    }
    check(isPoolError(error, TaskPool.PoolError.PLUGIN), 'an unknown kind fails with PLUGIN');

    const pool = new Pool();
    pool.start();
    for (const [what, submit] of [
        ['a job that is not a function', () => pool.submit(42)],
        ['a weight that is not an integer', () => pool.submit(() => 1, {weight: 1.5})],
    ]) {
        error = null;
        try {
            submit();
        } catch (e) {
            error = e;
        }
        check(error instanceof TypeError, `${what}: TypeError at submission`);
    }
    check(pool.waiting === 0 && pool.running === 0, 'nothing was queued');
    return pool.close();
}

function isIOError(error, code) {
    return error instanceof GLib.Error && error.matches(Gio.IOErrorEnum, code);
}

// A job that waits until the pool cancels it, and then rejects
function untilCancelled(onCancel = () => {}) {
    return cancellable => new Promise((resolve, reject) => {
        cancellable.connect(() => {
            onCancel();
            reject(new Error('stopped'));
        });
    });
}

async function testKeyPerKeyGate() {
    const pool = new Pool('fixed-simple', {size: 4, gates: ['per-key'], perKeyLimit: 1});
    pool.start();
    const running = {a: 0, b: 0};
    const most = {a: 0, b: 0};
    const release = deferred();
    const startedB = deferred();
    const job = key => () => {
        running[key]++;
        most[key] = Math.max(most[key], running[key]);
        if (key === 'b')
            startedB.resolve();
        return release.promise.then(() => {
            running[key]--;
            return key;
        });
    };
    const jobs = [1, 2, 3].map(() => pool.submit(job('a'), {key: 'a'}));
    jobs.push(pool.submit(job('b'), {key: 'b'}));
    await startedB.promise;
    check(same(running, {a: 1, b: 1}) && pool.waiting === 2,
        'key: one job of a key runs at once under per-key; another key does not wait');
    release.resolve();
    check(same(await Promise.all(jobs), ['a', 'a', 'a', 'b']) && same(most, {a: 1, b: 1}),
        'key: every job ran, one of each key at a time');
    await pool.close();
}

// Runs the submissions [name, options] on a pool of one worker, queued behind a job that holds
// it; resolves to the order in which they ran
async function orderOf(pool, submissions) {
    const ran = [];
    const holder = await holding(pool);
    const jobs = submissions.map(([name, how]) => pool.submit(() => ran.push(name), how));
    holder.release.resolve();
    await Promise.all([holder.job, ...jobs]);
    return ran;
}

async function testKeyFairAndWeight() {
    let pool = new Pool('fixed-fair', {size: 1});
    pool.start();
    const order = await orderOf(pool, [['a1', {key: 'a'}], ['a2', {key: 'a'}],
        ['a3', {key: 'a'}], ['b1', {key: 'b'}], ['b2', {key: 'b'}]]);
    check(same(order.slice(0, 2), ['a1', 'b1']) &&
        same(order.filter(name => name[0] === 'a'), ['a1', 'a2', 'a3']),
    `key: the fair queue takes keys in turn (${order})`);
    await pool.close();

    pool = new Pool('fixed-priority', {size: 1});
    pool.start();
    check(same(await orderOf(pool, [['5', {weight: 5, key: 'x'}],
        ['1', {weight: 1, queueTimeout: 60000}], ['default', {label: 'default weight'}],
        ['2', {weight: 2}]]), ['1', '2', 'default', '5']),
    'weight: with other options, a priority pool runs the smallest first');
    await pool.close();
}

async function testQueueTimeout() {
    const pool = new Pool('fixed-simple', {size: 1});
    pool.start();
    const holder = await holding(pool);
    const ran = [];
    const late = pool.submit(() => ran.push('late'), {queueTimeout: 5});
    const patient = pool.submit(() => ran.push('patient'), {queueTimeout: 3600000});
    check(isPoolError(await rejection(late), TaskPool.PoolError.TIMED_OUT),
        'queueTimeout: a job not started in time rejects with TaskPool.PoolError.TIMED_OUT');
    check(pool.waiting === 1, 'queueTimeout: the late job left the queue');
    holder.release.resolve();
    await Promise.all([holder.job, patient]);
    check(same(ran, ['patient']) && pool.pool.timed_out === 1,
        'queueTimeout: the late job never ran, and counts as timed out');
    await pool.close();
}

async function testRunTimeout() {
    const pool = new Pool('fixed-simple', {size: 2});
    pool.start();
    let stopped = 0;
    const error = await rejection(pool.submit(untilCancelled(() => stopped++), {runTimeout: 5}));
    check(isIOError(error, Gio.IOErrorEnum.TIMED_OUT) && stopped === 1,
        'runTimeout: the pool cancels the job\'s cancellable; it rejects with TIMED_OUT');

    // A job that ignores its cancellable settles late: its value is dropped
    const started = deferred();
    const release = deferred();
    const ignoring = pool.submit(() => {
        started.resolve();
        return release.promise.then(() => 'too late');
    }, {runTimeout: 10});
    await started.promise;
    // Started later with the same timeout: once it timed out, so has the first one
    check(isIOError(await rejection(pool.submit(untilCancelled(), {runTimeout: 10})),
        Gio.IOErrorEnum.TIMED_OUT), 'runTimeout: a second job times out');
    release.resolve();
    check(isIOError(await rejection(ignoring), Gio.IOErrorEnum.TIMED_OUT),
        'runTimeout: a job that settles after its run timeout rejects with TIMED_OUT');
    check(await pool.submit(() => 42, {runTimeout: 60000}) === 42,
        'runTimeout: a job within its timeout resolves');
    check(pool.pool.timed_out === 3 && pool.pool.succeeded === 1, 'runTimeout: counted');
    await pool.close();
}

async function testLabelAndCancel() {
    const pool = new Pool('fixed-simple', {size: 1});
    pool.start();
    const started = deferred();
    const running = pool.submit(cancellable => {
        started.resolve();
        return untilCancelled()(cancellable);
    }, {label: 'first.iso', key: 'mirror'});
    const queued = pool.submit(() => 'never', {label: 'second.iso'});
    await started.promise;
    const jobs = pool.jobs;
    const infos = [0, 1].map(i => jobs.get_item(i));
    check(jobs.get_n_items() === 2 &&
        same(infos.map(info => [info.label, info.key]),
            [['first.iso', 'mirror'], ['second.iso', null]]) &&
        infos[0].state === TaskPool.JobState.RUNNING,
    'label: pool.jobs lists the labelled jobs');
    const outcomes = [rejection(queued), rejection(running)];
    infos[1].cancel();
    check(isIOError(await outcomes[0], Gio.IOErrorEnum.CANCELLED),
        'label: JobInfo.cancel() on a queued job rejects it with CANCELLED');
    infos[0].cancel();
    check(isIOError(await outcomes[1], Gio.IOErrorEnum.CANCELLED),
        'label: JobInfo.cancel() on a running job cancels its cancellable: CANCELLED');

    // close({cancelRunning}) cancels the cancellable of a running job without options too
    const started2 = deferred();
    const plain = pool.submit(cancellable => {
        started2.resolve();
        return untilCancelled()(cancellable);
    });
    await started2.promise;
    const plainOutcome = rejection(plain);
    await pool.close({cancelRunning: true});
    check(isIOError(await plainOutcome, Gio.IOErrorEnum.CANCELLED),
        'close({cancelRunning: true}) rejects running jobs with CANCELLED');
    check(pool.jobs.get_n_items() === 0, 'label: no job is left listed');
}

function testOptionsRefused() {
    const pool = new Pool();
    pool.start();
    const refused = [
        [TypeError, {queueTimeout: '5'}], [TypeError, {runTimeout: true}],
        [TypeError, {runTimeout: null}], [TypeError, {key: 1}], [TypeError, {label: {}}],
        [TypeError, {weight: 1.5}], [TypeError, {noWait: 'yes'}], [TypeError, {timeout: 5}],
        [TypeError, {queue_timeout: 5}], [TypeError, null], [TypeError, 'key'],
        [RangeError, {key: 'a\0b'}], [RangeError, {weight: 2 ** 40}],
    ];
    for (const name of ['queueTimeout', 'runTimeout']) {
        for (const value of [0, -1, -0.5, NaN, Infinity, -Infinity, 2 ** 32])
            refused.push([RangeError, {[name]: value}]);
    }
    for (const [type, how] of refused) {
        let error = null;
        try {
            pool.submit(() => 1, how);
        } catch (e) {
            error = e;
        }
        check(error instanceof type, `${JSON.stringify(how)} (${how?.queueTimeout ??
            how?.runTimeout}): ${type.name} at submission (${error})`);
    }
    let error = null;
    try {
        pool.submit(() => 1, {inThread: true});
    } catch (e) {
        error = e;
    }
    check(error instanceof Error && /main thread/.test(error.message),
        `inThread: refused at submission with a clear Error (${error?.message})`);
    check(pool.waiting === 0 && pool.running === 0 && pool.pool.submitted === 0,
        'nothing was submitted');
    return pool.close();
}

async function testSmallAndLargeTimeouts() {
    const pool = new Pool();
    pool.start();
    check(await pool.submit(() => 1, {queueTimeout: TIMEOUT_MAX, runTimeout: 0.4}) === 1,
        'the largest timeout is taken, and a sub-millisecond one (1 ms)');
    check(await pool.submit(() => 2, {queueTimeout: 3600000, key: ''}) === 2,
        'an empty key is a key');
    await pool.close();
}

const TIMEOUT_MAX = 2 ** 32 - 1;

await testKinds();
const thrown = new RangeError('boom');
await testThrowRejectsAtOnce('a job that throws', () => {
    throw thrown;
}, thrown);
await testThrowRejectsAtOnce('a job whose Promise rejects', async () => {
    await null;
    throw thrown;
}, thrown);
const reason = {not: 'an Error'};
await testThrowRejectsAtOnce('a job that rejects with any value', () => Promise.reject(reason),
    reason);
await testBound();
await testOrder('fixed-simple', [0, 1, 2, 3, 4, 5]);
await testOrder('fixed-lifo', [5, 4, 3, 2, 1, 0]);
await testOrder('fixed-priority', [1, 3, 5, 4, 2, 0]);
await testOrder('autoscale-priority', [1, 3, 5, 4, 2, 0]);
await testPauseScaleClose();
await testQueueCapacity();
await testRefused();
await testKeyPerKeyGate();
await testKeyFairAndWeight();
await testQueueTimeout();
await testRunTimeout();
await testLabelAndCancel();
await testOptionsRefused();
await testSmallAndLargeTimeouts();
print(`1..${checks}`);
System.exit(failures === 0 ? 0 : 1);
