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
// A job is a function that takes no argument and returns a value or a Promise: the pool calls
// it on the main context when the job gets a worker, and the worker stays busy until the
// Promise settles. submit() returns a Promise of what the job returned; a job that throws, or
// whose Promise rejects, rejects it at once with that same value. GJS runs JavaScript on the
// main thread only, so a pool runs no JavaScript job on a thread.
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
     *   TaskPool.PoolError.CLOSED
     * @returns {Promise<void>} settled when no job is left
     */
    close({discardQueued = false} = {}) {
        if (this.#state === 'closed')
            return Promise.resolve();
        this.#state = 'closing';
        const flags = discardQueued
            ? TaskPool.CloseFlags.DISCARD_QUEUED : TaskPool.CloseFlags.DRAIN;
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
     * @param {function(): *} job - called with no argument when the job gets a worker; it
     *   returns a value, or a Promise that keeps the worker busy until it settles
     * @param {object} how - `weight`: the smallest runs first in a priority pool; `noWait`:
     *   fail with TaskPool.PoolError.FULL rather than wait for room in a full queue
     * @returns {Promise<*>} what the job returned; rejected with what it threw, or with the
     *   GLib.Error of a job the pool could not run (TaskPool.PoolError)
     * @throws {TypeError} at once, for a job that is not a function or a weight that is not an
     *   integer
     */
    submit(job, {weight = this.#defaultWeight, noWait = false} = {}) {
        if (typeof job !== 'function') {
            throw new TypeError(
                `A job is a function that returns a value or a Promise, not ${job}`);
        }
        if (!Number.isInteger(weight) || weight < INT_MIN || weight > INT_MAX)
            throw new TypeError(`weight must be an integer, not ${weight}`);
        let outcome = null;

        const complete = (task, value, failed) => {
            outcome = new Outcome(value, failed);
            if (failed) {
                task.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED,
                    failureMessage(value)));
            } else {
                task.return_boolean(true);
            }
        };

        const run = task => {
            let value;
            try {
                value = job();
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
            const flags = noWait ? TaskPool.SubmitFlags.NO_WAIT : TaskPool.SubmitFlags.DEFAULT;
            this.#pool.submit_full_async(flags, weight, run, null,
                (pool, result) => {
                    if (outcome !== null) {
                        if (outcome.failed)
                            reject(outcome.value);
                        else
                            resolve(outcome.value);
                        return;
                    }
                    // The job never ran: the pool refused or discarded it
                    try {
                        pool.submit_value_finish(result);
                        reject(new Error('libtaskpool reported a job that never ran as done'));
                    } catch (error) {
                        reject(error);
                    }
                });
        });
    }
}
