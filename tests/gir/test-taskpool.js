// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GJS module taskpool.js (suite `gir`, run with `gjs -m`): Promises from submit(), a job
// that throws rejects at once with what it threw, the six kinds, order, bound, pause, scale and
// close. Nothing sleeps to wait: the test awaits Promises that jobs settle, and checks order and
// counts, never durations.

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
print(`1..${checks}`);
System.exit(failures === 0 ? 0 : 1);
