// SPDX-License-Identifier: LGPL-2.1-or-later
//
// taskpool.js: libtaskpool's pools for GJS, with Promises (an ES module, GJS 1.74 or newer).
//
//     import {Pool} from 'file:///usr/share/taskpool-1/gjs/taskpool.js';
//
//     const pool = new Pool('fixed-simple', {size: 4});
//     pool.start();
//     const text = await pool.submit(async () => download(url));
//     await pool.close();
//
// A job is a function that returns a value or a Promise: the pool calls it on the main context
// when the job gets a worker, with the Gio.Cancellable that the pool cancels at the job's run
// timeout, and the worker stays busy until the Promise settles. submit() returns a Promise of
// what the job returned; a job that throws, or whose Promise rejects, rejects it at once with
// that same value. Options of a job: weight, key, queueTimeout and runTimeout (ms), label,
// noWait. GJS runs JavaScript on the main thread only: a pool runs no JavaScript job on a
// thread, and submit(job, {inThread: true}) throws.
//
// New in libtaskpool 1.4.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import TaskPool from 'gi://TaskPool?version=1.0';

export {TaskPool};

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

// camelCase option names are the keyfile's keys: minSize is min-size
function keyOf(name) {
    return name.replace(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);
}

function makeKeyfile(group, kind, options) {
    const keyfile = new GLib.KeyFile();
    keyfile.set_string(group, 'kind', kind);
    for (const [name, value] of Object.entries(options)) {
        const key = keyOf(name);
        if (typeof value === 'boolean')
            keyfile.set_boolean(group, key, value);
        else if (Number.isInteger(value))
            keyfile.set_value(group, key, String(value));
        else if (typeof value === 'string')
            keyfile.set_string(group, key, value);
        else if (Array.isArray(value) && value.every(item => typeof item === 'string'))
            keyfile.set_string_list(group, key, value);
        else
            throw new TypeError(`Pool option ${name} takes an integer, a boolean, a string or an ` +
                `array of strings, not ${value}`);
    }
    return keyfile;
}

const TIMEOUT_MAX_MS = 2 ** 32 - 1;
const SUBMIT_OPTIONS = ['weight', 'key', 'queueTimeout', 'runTimeout', 'label', 'noWait',
    'inThread'];

function timeoutMs(name, value) {
    if (typeof value !== 'number')
        throw new TypeError(`${name} is a number of milliseconds, not ${value}`);
    // To the nearest millisecond; never 0, which the library reads as no timeout
    const milliseconds = Math.max(1, Math.round(value));
    if (!(value > 0 && milliseconds <= TIMEOUT_MAX_MS)) {
        throw new RangeError(`${name} must be a number of milliseconds above 0 and at most ` +
            `${TIMEOUT_MAX_MS} (leave it out for no timeout), not ${value}`);
    }
    return milliseconds;
}

function text(name, value) {
    if (typeof value !== 'string')
        throw new TypeError(`${name} must be a string, not ${value}`);
    if (value.includes('\0'))
        throw new RangeError(`${name} must not contain a NUL character`);
    return value;
}

// The submission's flags and weight, and its TaskPool.JobOptions when it needs more
function jobOptions(how, defaultWeight) {
    if (how === null || typeof how !== 'object')
        throw new TypeError(`submit() takes its options in an object, not ${how}`);
    for (const name of Object.keys(how)) {
        if (!SUBMIT_OPTIONS.includes(name)) {
            throw new TypeError(`submit() has no option ${name}: its options are ` +
                `${SUBMIT_OPTIONS.join(', ')}`);
        }
    }
    const {weight = defaultWeight, key, queueTimeout, runTimeout, label, noWait = false,
        inThread = false} = how;
    if (inThread !== false) {
        throw new Error('GJS runs JavaScript on the main thread only: a job written in ' +
            'JavaScript cannot run on a thread. Submit it without inThread, and keep it from ' +
            'blocking: use the async functions of Gio, or a subprocess (Gio.Subprocess)');
    }
    if (!Number.isInteger(weight))
        throw new TypeError(`weight must be an integer, not ${weight}`);
    if (weight < INT_MIN || weight > INT_MAX)
        throw new RangeError(`weight must lie within ${INT_MIN} … ${INT_MAX}, not ${weight}`);
    if (typeof noWait !== 'boolean')
        throw new TypeError(`noWait must be a boolean, not ${noWait}`);
    const flags = noWait ? TaskPool.SubmitFlags.NO_WAIT : TaskPool.SubmitFlags.DEFAULT;
    if (key === undefined && queueTimeout === undefined && runTimeout === undefined &&
        label === undefined)
        return {flags, weight, jobOptions: null};

    const checked = {
        key: key === undefined ? undefined : text('key', key),
        label: label === undefined ? undefined : text('label', label),
        queueTimeout: queueTimeout === undefined
            ? undefined : timeoutMs('queueTimeout', queueTimeout),
        runTimeout: runTimeout === undefined ? undefined : timeoutMs('runTimeout', runTimeout),
    };
    const options = TaskPool.JobOptions.new();
    options.set_flags(flags);
    options.set_weight(weight);
    if (checked.key !== undefined)
        options.set_key(checked.key);
    if (checked.label !== undefined)
        options.set_label(checked.label);
    if (checked.queueTimeout !== undefined)
        options.set_queue_timeout(checked.queueTimeout);
    if (checked.runTimeout !== undefined)
        options.set_run_timeout(checked.runTimeout);
    return {flags, weight, jobOptions: options};
}

// What a job ended with, kept in JavaScript: the job's task only says whether it failed
class Outcome {
    constructor(value, failed) {
        this.value = value;
        this.failed = failed;
    }
}

function failureMessage(reason) {
    if (reason instanceof Error)
        return `${reason.name}: ${reason.message}`;
    return String(reason);
}

/**
 * A pool that runs at most `size` jobs at once: libtaskpool's TaskPool.Pool with Promises.
 */
export class Pool {
    #pool;
    #state = 'new';
    #defaultWeight;

    /**
     * @param {string} kind - `<scaler>-<queue>`, such as `fixed-simple` or `autoscale-priority`
     * @param {object} options - the pool's keyfile keys in camelCase: size, minSize, maxSize,
     *   queueCapacity, defaultWeight, scaleIntervalMs, idleTimeoutMs, pluginPath…
     * @throws {GLib.Error} TaskPool.PoolError.CONFIG or PLUGIN, naming the option that is wrong
     */
    constructor(kind = 'fixed-simple', options = {}) {
        if (typeof kind !== 'string')
            throw new TypeError(`Pool kind must be a string such as "fixed-simple", not ${kind}`);
        this.#pool = TaskPool.Pool.new_from_keyfile(makeKeyfile('Pool', kind, options), 'Pool');
        this.#defaultWeight = this.#pool.get_default_weight();
    }

    /** The TaskPool.Pool this object drives. */
    get pool() {
        return this.#pool;
    }

    get kind() {
        return this.#pool.get_kind();
    }

    /** Live workers once started; before, the size the pool starts with. */
    get size() {
        return this.#state === 'new' ? this.#pool.get_target_size() : this.#pool.get_size();
    }

    get running() {
        return this.#pool.get_running();
    }

    get waiting() {
        return this.#pool.get_waiting();
    }

    /**
     * The jobs submitted with a `label` that are in the pool, queued or running: a
     * Gio.ListModel of TaskPool.JobInfo (label, key, weight, state, progress; cancel()).
     */
    get jobs() {
        return this.#pool.get_jobs();
    }

    /** Whether submissions are refused: before start(), while paused, once closed. */
    get paused() {
        return this.#state !== 'running' || this.#pool.get_paused();
    }

    get closed() {
        return this.#state === 'closing' || this.#state === 'closed';
    }

    /** Starts the workers; starting a started pool does nothing. */
    start() {
        if (this.closed)
            throw new Error('The pool is closed: a closed pool cannot start again');
        this.#pool.start();
        this.#state = 'running';
    }

    /** Pauses a pool that accepts jobs, or resumes a paused one; returns the new `paused`. */
    pause() {
        if (this.#state !== 'running') {
            throw new Error(
                `pause() needs a started pool that is not closed; this one is ${this.#state}`);
        }
        if (this.#pool.get_paused())
            this.#pool.resume();
        else
            this.#pool.pause();
        return this.#pool.get_paused();
    }

    /**
     * Adds `delta` workers, or retires `-delta`.
     * @returns {Promise<number>} the new size, once the pool has reached it
     */
    scale(delta) {
        if (!Number.isInteger(delta) || delta < INT_MIN || delta > INT_MAX)
            return Promise.reject(new TypeError(`scale() takes an integer, not ${delta}`));
        if (this.#state === 'new')
            return Promise.resolve(this.#pool.scale(delta));
        if (this.#state !== 'running')
            return Promise.reject(new Error('The pool is closed: it cannot scale'));
        return new Promise((resolve, reject) => {
            this.#pool.scale_async(delta, null, (pool, result) => {
                try {
                    resolve(pool.scale_finish(result));
                } catch (error) {
                    reject(error);
                }
            });
        });
    }

    /**
     * Stops accepting jobs; by default every queued job still runs.
     * @param {object} how - `discardQueued: true` fails queued jobs with
     *   TaskPool.PoolError.CLOSED; `cancelRunning: true` also cancels the cancellables of
     *   running jobs, whose Promises then reject with Gio.IOErrorEnum.CANCELLED
     * @returns {Promise<void>} settled when no job is left
     */
    close({discardQueued = false, cancelRunning = false} = {}) {
        if (this.#state === 'closed')
            return Promise.resolve();
        this.#state = 'closing';
        let flags = TaskPool.CloseFlags.DRAIN;
        if (discardQueued || cancelRunning)
            flags |= TaskPool.CloseFlags.DISCARD_QUEUED;
        if (cancelRunning)
            flags |= TaskPool.CloseFlags.CANCEL_RUNNING;
        return new Promise((resolve, reject) => {
            this.#pool.close_async(flags, null, (pool, result) => {
                try {
                    pool.close_finish(result);
                    this.#state = 'closed';
                    resolve();
                } catch (error) {
                    reject(error);
                }
            });
        });
    }

    /**
     * Submits a job.
     * @param {function(Gio.Cancellable): *} job - called when the job gets a worker, with the
     *   cancellable that the pool cancels at the job's run timeout (or when close() cancels
     *   running jobs); it returns a value, or a Promise that keeps the worker busy until it
     *   settles
     * @param {object} how - `weight`: the smallest runs first in a priority pool; `key`: a
     *   string such as a host, which the `per-key` and `rate` gates limit and the `fair` queue
     *   takes in turn; `queueTimeout` (ms): a job not started by then rejects with
     *   TaskPool.PoolError.TIMED_OUT and never runs; `runTimeout` (ms): the pool then cancels
     *   the job's cancellable, and the Promise rejects with Gio.IOErrorEnum.TIMED_OUT once
     *   the job settles; `label`: lists the job in `pool.jobs`; `noWait`: fail with
     *   TaskPool.PoolError.FULL rather than wait for room in a full queue
     * @returns {Promise<*>} what the job returned; rejected with what it threw, or with the
     *   GLib.Error of a job the pool could not run or cancelled (TaskPool.PoolError,
     *   Gio.IOErrorEnum)
     * @throws {TypeError} at once, for a job that is not a function or an option of the wrong
     *   type or name
     * @throws {RangeError} at once, for a weight or a timeout out of range
     * @throws {Error} at once, for `inThread: true`: GJS runs JavaScript on the main thread only
     */
    submit(job, how = {}) {
        if (typeof job !== 'function') {
            throw new TypeError(
                `A job is a function that returns a value or a Promise, not ${job}`);
        }
        const options = jobOptions(how, this.#defaultWeight);
        let outcome = null;
        let cancellable = null;

        const complete = (task, value, failed) => {
            if (cancellable.is_cancelled()) {
                // The pool cancelled the job (its run timeout, or a close that cancels running
                // jobs): what it settled with comes too late, the pool's outcome is final
                task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED,
                    'The job was cancelled'));
                return;
            }
            outcome = new Outcome(value, failed);
            if (failed) {
                task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED,
                    failureMessage(value)));
            } else {
                task.return_boolean(true);
            }
        };

        const run = (task, _pool, jobCancellable) => {
            cancellable = jobCancellable;
            let value;
            try {
                value = job(jobCancellable);
            } catch (error) {
                complete(task, error, true);
                return;
            }
            if (value !== null && typeof value?.then === 'function') {
                Promise.resolve(value).then(result => complete(task, result, false),
                    error => complete(task, error, true));
            } else {
                complete(task, value, false);
            }
        };

        return new Promise((resolve, reject) => {
            const done = (pool, result) => {
                if (outcome !== null) {
                    if (outcome.failed)
                        reject(outcome.value);
                    else
                        resolve(outcome.value);
                    return;
                }
                // The job never ran (the pool refused, discarded or timed it out), or the pool
                // cancelled it
                try {
                    pool.submit_value_finish(result);
                    reject(new Error('libtaskpool reported a job that never ran as done'));
                } catch (error) {
                    reject(error);
                }
            };
            if (options.jobOptions === null) {
                this.#pool.submit_full_async(options.flags, options.weight, run, null, done);
            } else {
                this.#pool.submit_with_options_async(options.jobOptions, run, null, done);
            }
        });
    }
}
