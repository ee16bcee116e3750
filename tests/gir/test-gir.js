// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libtaskpool through GObject introspection, from GJS: the six kinds, async jobs written in
// JavaScript (completing their Gio.Task later from a timeout), weights, scale, pause, close,
// and the order of a one-worker priority pool.
//
// GJS runs JavaScript on the main thread only: a thread job written in JavaScript would be
// called on a worker thread, which GJS refuses, so this test submits no thread jobs
// (test-gir-thread-job.js does).
//
// A pool made with `new TaskPool.Pool({kind: …})`, GJS's way to construct, is never init()ed:
// it initializes itself at start(), or fails there with a GLib.Error; nothing crashes before.
//
// GJS notes: the job is job(task, pool, cancellable) — job_data is the closure GJS keeps, so
// data reaches the job through JavaScript's own closures; a job completes its task with
// task.return_value(…) (or return_error) and the submitter reads the value with
// submit_value_finish(), which returns it.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.TaskPool = '1.0';
const {GLib, GObject, TaskPool} = imports.gi;
const System = imports.system;

const KINDS = ['fixed-simple', 'fixed-lifo', 'fixed-priority',
    'autoscale-simple', 'autoscale-lifo', 'autoscale-priority'];

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

function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
}

// Runs the default main context until condition() holds; never sleeps
function iterateUntil(condition) {
    const context = GLib.MainContext.default();
    while (!condition())
        context.iteration(true);
}

// An async job: runs on the pool's context and completes its task later
function asyncJob(value) {
    return (task, _pool, _cancellable) => {
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5, () => {
            task.return_value(value);
            return GLib.SOURCE_REMOVE;
        });
    };
}

class Results {
    constructor() {
        this.values = [];
        this.errors = [];
        this.callback = (pool, result) => {
            try {
                this.values.push(pool.submit_value_finish(result));
            } catch (e) {
                this.errors.push(e);
            }
        };
    }

    count() {
        return this.values.length + this.errors.length;
    }
}

function isNotAccepting(error) {
    return error instanceof GLib.Error &&
        error.matches(TaskPool.PoolError, TaskPool.PoolError.NOT_ACCEPTING);
}

function isPoolError(error, code) {
    return error instanceof GLib.Error && error.matches(TaskPool.PoolError, code);
}

// What a tool that dumps a pool's properties reads
function readEveryProperty(pool) {
    const values = {};
    for (const spec of GObject.Object.list_properties.call(TaskPool.Pool)) {
        if (spec.flags & GObject.ParamFlags.READABLE)
            values[spec.name] = pool[spec.name.replace(/-/g, '_')];
    }
    return values;
}

function closeWith(pool, flags, what) {
    const closed = [];
    pool.close_async(flags, null, (p, res) => closed.push(p.close_finish(res)));
    iterateUntil(() => closed.length > 0);
    check(same(closed, [true]) && pool.closed, `${what}: closed`);
}

function scaleAsyncFails(pool, what) {
    const scaled = [];
    pool.scale_async(1, null, (p, res) => {
        try {
            scaled.push(p.scale_finish(res));
        } catch (e) {
            scaled.push(e);
        }
    });
    iterateUntil(() => scaled.length > 0);
    check(isPoolError(scaled[0], TaskPool.PoolError.NOT_ACCEPTING),
        `${what}: scale_async fails with NOT_ACCEPTING`);
}

function testUninitializedPoolRuns() {
    const pool = new TaskPool.Pool({kind: 'fixed-priority', size: 2});
    const values = readEveryProperty(pool);
    check(Object.keys(values).length >= 21 && values.kind === 'fixed-priority',
        'uninitialized: every property reads');
    check(values.size === 2 && pool.size === 2 && pool.get_size() === 2,
        'uninitialized: size reads the size it starts with');
    check(values.running === 0 && values.waiting === 0 && values.submitted === 0,
        'uninitialized: no job');
    check(pool.start(), 'uninitialized: start initializes the pool');
    const blocked = [];
    const results = new Results();
    pool.submit_async(task => blocked.push(task), null, results.callback);
    pool.submit_async(task => blocked.push(task), null, results.callback);
    iterateUntil(() => blocked.length === 2);
    for (const weight of [3, 1, 2]) {
        pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, weight,
            task => task.return_value(weight), null, results.callback);
    }
    check(pool.running === 2 && pool.waiting === 3, 'uninitialized: at most 2 run at once');
    readEveryProperty(pool);
    blocked[0].return_value('first');
    iterateUntil(() => results.count() === 4);
    blocked[1].return_value('second');
    iterateUntil(() => results.count() === 5);
    check(same(results.values.slice(0, 4), ['first', 1, 2, 3]) && results.errors.length === 0,
        'uninitialized: jobs run, smallest weight first');
    closeWith(pool, TaskPool.CloseFlags.DRAIN, 'uninitialized');
    check(readEveryProperty(pool).succeeded === 5, 'uninitialized: 5 succeeded');
}

function testUninitializedBadKind() {
    const pool = new TaskPool.Pool({kind: 'no-such-kind'});
    check(readEveryProperty(pool).kind === 'no-such-kind', 'bad kind: every property reads');
    for (const attempt of [1, 2]) {
        let error = null;
        try {
            pool.start();
        } catch (e) {
            error = e;
        }
        check(isPoolError(error, TaskPool.PoolError.PLUGIN) &&
            error.message.includes('no-such-kind'),
        `bad kind: start ${attempt} throws the GLib.Error naming the kind`);
    }
    const results = new Results();
    pool.submit_async(asyncJob('never'), null, results.callback);
    iterateUntil(() => results.count() === 1);
    check(isNotAccepting(results.errors[0]), 'bad kind: submissions fail with NOT_ACCEPTING');
    scaleAsyncFails(pool, 'bad kind');
    closeWith(pool, TaskPool.CloseFlags.DISCARD_QUEUED | TaskPool.CloseFlags.CANCEL_RUNNING,
        'bad kind');
    readEveryProperty(pool);
}

function testUninitializedEntryPoints() {
    const flags = TaskPool.CloseFlags;
    for (const closeFlags of [flags.DRAIN, flags.DISCARD_QUEUED,
        flags.DISCARD_QUEUED | flags.CANCEL_RUNNING]) {
        const what = `never started, close ${closeFlags}`;
        const pool = new TaskPool.Pool({kind: 'autoscale-simple', min_size: 1, max_size: 4});
        readEveryProperty(pool);
        check(pool.size === 1 && pool.scale(2) === 3 && pool.size === 3,
            `${what}: scale sets the size it starts with`);
        scaleAsyncFails(pool, what);
        pool.hold();
        check(pool.held, `${what}: held`);
        pool.unhold();
        check(pool.get_jobs().get_n_items() === 0, `${what}: no labelled job`);
        const results = new Results();
        pool.submit_async(asyncJob('never'), null, results.callback);
        iterateUntil(() => results.count() === 1);
        check(isNotAccepting(results.errors[0]), `${what}: submission fails`);
        closeWith(pool, closeFlags, what);
        let error = null;
        try {
            pool.start();
        } catch (e) {
            error = e;
        }
        check(error instanceof GLib.Error, `${what}: a closed pool does not start`);
        const values = readEveryProperty(pool);
        check(values.submitted === 1 && values.failed === 1, `${what}: counted`);
    }
}

function newPool(kind) {
    const pool = TaskPool.Pool.new(kind);
    check(pool.get_kind() === kind, `${kind}: new`);
    check(pool.start(), `${kind}: start`);
    return pool;
}

function close(pool, what) {
    const closed = [];
    pool.close_async(TaskPool.CloseFlags.DRAIN, null, (p, res) => closed.push(p.close_finish(res)));
    iterateUntil(() => closed.length > 0);
    check(same(closed, [true]) && pool.get_closed() && pool.closed, `${what}: closed`);
}

function testKindsJobsAndWeights() {
    for (const kind of KINDS) {
        const pool = newPool(kind);
        const results = new Results();
        pool.submit_async(asyncJob('ok:e done'), null, results.callback);
        pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, 1, asyncJob('weighted'), null,
            results.callback);
        pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, 9, asyncJob(42), null,
            results.callback);
        iterateUntil(() => results.count() === 3);
        check(results.errors.length === 0, `${kind}: no errors`);
        check(same([...results.values].sort(), [42, 'ok:e done', 'weighted'].sort()),
            `${kind}: results through submit_value_finish`);
        close(pool, kind);
    }
}

function testScale() {
    for (const kind of KINDS) {
        const pool = newPool(kind);
        check(pool.get_size() === 3, `${kind}: 3 workers`);
        check(pool.scale(3) === 6, `${kind}: scale(3) targets 6`);
        iterateUntil(() => pool.get_size() === 6);
        check(pool.size === 6, `${kind}: size property 6`);
        const scaled = [];
        pool.scale_async(-1, null, (p, res) => scaled.push(p.scale_finish(res)));
        iterateUntil(() => scaled.length > 0);
        check(same(scaled, [5]) && pool.get_size() === 5, `${kind}: scale_async(-1)`);
        close(pool, kind);
    }
}

function testPauseAndCloseRefuse() {
    const pool = newPool('fixed-simple');
    const results = new Results();
    pool.pause();
    check(pool.get_paused(), 'paused');
    pool.submit_async(asyncJob('never'), null, results.callback);
    iterateUntil(() => results.count() === 1);
    check(results.values.length === 0 && isNotAccepting(results.errors[0]),
        'paused pool refuses with NOT_ACCEPTING');
    pool.resume();
    pool.submit_async(asyncJob('again'), null, results.callback);
    iterateUntil(() => results.count() === 2);
    check(same(results.values, ['again']), 'resumed pool accepts');
    close(pool, 'pause');
    pool.submit_async(asyncJob('late'), null, results.callback);
    iterateUntil(() => results.count() === 3);
    check(isNotAccepting(results.errors[1]), 'closed pool refuses with NOT_ACCEPTING');
}

function testPriorityOrder() {
    const pool = new TaskPool.Pool({kind: 'fixed-priority', size: 1});
    check(pool.init(null), 'priority pool: init');
    check(pool.start(), 'priority pool: start');
    const blocked = [];
    const results = new Results();
    // The blocker holds the only worker until every other job is queued
    pool.submit_async(task => blocked.push(task), null, results.callback);
    iterateUntil(() => blocked.length > 0);
    for (const weight of [5, 1, 4, 1, 3, 2]) {
        pool.submit_full_async(TaskPool.SubmitFlags.DEFAULT, weight,
            task => task.return_value(weight), null, results.callback);
    }
    check(pool.get_waiting() === 6, 'six jobs wait');
    blocked[0].return_value('blocker');
    iterateUntil(() => results.count() === 7);
    check(same(results.values, ['blocker', 1, 1, 2, 3, 4, 5]), 'smallest weight first');
    close(pool, 'priority pool');
}

testKindsJobsAndWeights();
testScale();
testPauseAndCloseRefuse();
testPriorityOrder();
testUninitializedPoolRuns();
testUninitializedBadKind();
testUninitializedEntryPoints();
print(`1..${checks}`);
System.exit(failures === 0 ? 0 : 1);
