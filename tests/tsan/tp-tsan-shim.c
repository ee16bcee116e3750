/* tp-tsan-shim.c: shows GLib's locks and hand-offs to ThreadSanitizer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib is not built with -fsanitize=thread: its GMutex and GCond are futexes,
 * its reference counts and once-flags atomics, and its queues and main
 * contexts pass data from thread to thread behind those. ThreadSanitizer sees
 * none of it, so every access of the pool's state under the pool's lock looks
 * like a race. This module is preloaded (LD_PRELOAD) into the tests of a
 * thread-sanitized build. It defines the GLib functions that the tests, the
 * library, its plugins, GObject and GIO call across a library boundary, tells
 * ThreadSanitizer what each one means with its annotation API, and calls
 * GLib's own function, found with dlsym (RTLD_NEXT):
 *
 * - GMutex, GRecMutex and GRWLock are annotated as mutexes (so reports list
 *   the locks held, and lock-order inversions are found); GCond's wait
 *   releases and retakes its mutex, and a signal happens before the wake-up.
 * - g_once_init_leave() happens before every g_once_init_enter() that sees
 *   the value, including the inline fast path, an atomic load.
 * - g_object_unref() releases, and the thread that disposes and finalizes
 *   the object acquires, as with an instrumented atomic reference count: it
 *   has seen everything done by those that dropped the object earlier.
 * - The thread that initializes a class (through g_type_class_ref() or
 *   g_object_new() and its variants) releases it; those that get the class
 *   or make an instance acquire it: the class's initialization happens
 *   before what the others read of it (GObject publishes it with atomics of
 *   its own).
 * - g_thread_pool_push() happens before the pool's function runs next, as
 *   the lock of the pool's queue makes it; g_async_queue_push() before the
 *   pop that returns the data; the function's calls before
 *   g_thread_pool_free() returns, when it waits.
 * - Attaching a source to a main context, setting its ready time, waking the
 *   context or adding an idle or a timeout happen before the callbacks and
 *   dispatch functions that the context runs afterwards: callbacks are set
 *   through g_source_set_callback_indirect() with functions that annotate
 *   the hand-off when GLib fetches the callback to dispatch it, and sources
 *   made with g_source_new() get a copy of their GSourceFuncs whose
 *   functions do the same before calling the originals.
 *
 * What GLib does inside itself (a call from GLib to GLib) is not seen here:
 * the threads of GLib's thread pools ignore their accesses between two calls
 * of a pool's function, a few calls into GLib are made with the calling
 * thread's accesses ignored (they touch only GLib's own memory), and
 * tests/tsan/tsan.supp lists the races left, each with its reason.
 *
 * This file is not built with -fsanitize=thread: its own bookkeeping is
 * invisible to ThreadSanitizer, and every hand-off it makes is annotated.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib-object.h>

#include <sanitizer/tsan_interface.h>

/* The header's inline fast paths would hide the functions defined here */
#undef g_once_init_enter
#undef g_once_init_leave
#undef g_once

/* The runtime's annotations. Weak: a process without ThreadSanitizer (a
 * shell that a test runs, which inherits LD_PRELOAD) gets this module as a
 * plain pass-through to GLib. To ignore a thread's accesses (and those of
 * malloc, free, memset…) for a while, the dynamic annotations, which both
 * GCC's and clang's runtimes export: reads and writes share one count. */
void AnnotateIgnoreReadsBegin (const char *file, int line);
void AnnotateIgnoreReadsEnd (const char *file, int line);
void AnnotateIgnoreWritesBegin (const char *file, int line);
void AnnotateIgnoreWritesEnd (const char *file, int line);
#pragma weak __tsan_acquire
#pragma weak __tsan_release
#pragma weak __tsan_mutex_create
#pragma weak __tsan_mutex_destroy
#pragma weak __tsan_mutex_pre_lock
#pragma weak __tsan_mutex_post_lock
#pragma weak __tsan_mutex_pre_unlock
#pragma weak __tsan_mutex_post_unlock
#pragma weak AnnotateIgnoreReadsBegin
#pragma weak AnnotateIgnoreReadsEnd
#pragma weak AnnotateIgnoreWritesBegin
#pragma weak AnnotateIgnoreWritesEnd

/* Every annotation used here, or none */
static gboolean
tsan_present (void)
{
  static int present = -1;

  if (G_UNLIKELY (present < 0))
    present = __tsan_acquire != NULL && __tsan_release != NULL && __tsan_mutex_create != NULL &&
              __tsan_mutex_destroy != NULL && __tsan_mutex_pre_lock != NULL &&
              __tsan_mutex_post_lock != NULL && __tsan_mutex_pre_unlock != NULL &&
              __tsan_mutex_post_unlock != NULL && AnnotateIgnoreReadsBegin != NULL &&
              AnnotateIgnoreReadsEnd != NULL && AnnotateIgnoreWritesBegin != NULL &&
              AnnotateIgnoreWritesEnd != NULL;
  return present;
}

static inline void
tsan_acquire (void *addr)
{
  if (tsan_present ())
    __tsan_acquire (addr);
}

static inline void
tsan_release (void *addr)
{
  if (tsan_present ())
    __tsan_release (addr);
}

static inline void
tsan_mutex_create (void     *addr,
                   unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_create (addr, flags);
}

static inline void
tsan_mutex_destroy (void     *addr,
                    unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_destroy (addr, flags);
}

static inline void
tsan_mutex_pre_lock (void     *addr,
                     unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_pre_lock (addr, flags);
}

static inline void
tsan_mutex_post_lock (void     *addr,
                      unsigned  flags,
                      int       recursion)
{
  if (tsan_present ())
    __tsan_mutex_post_lock (addr, flags, recursion);
}

static inline void
tsan_mutex_pre_unlock (void     *addr,
                       unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_pre_unlock (addr, flags);
}

static inline void
tsan_mutex_post_unlock (void     *addr,
                        unsigned  flags)
{
  if (tsan_present ())
    __tsan_mutex_post_unlock (addr, flags);
}

static inline void
tsan_ignore_thread_begin (void)
{
  if (tsan_present ())
    {
      AnnotateIgnoreReadsBegin (__FILE__, __LINE__);
      AnnotateIgnoreWritesBegin (__FILE__, __LINE__);
    }
}

static inline void
tsan_ignore_thread_end (void)
{
  if (tsan_present ())
    {
      AnnotateIgnoreWritesEnd (__FILE__, __LINE__);
      AnnotateIgnoreReadsEnd (__FILE__, __LINE__);
    }
}

#define TP_SHIM_EXPORT __attribute__ ((visibility ("default")))

/* GLib's own functions {{{ */

static void *
tp_shim_next (const char *name)
{
  void *symbol = dlsym (RTLD_NEXT, name);

  if (symbol == NULL)
    {
      fprintf (stderr, "tp-tsan-shim: GLib has no %s: %s\n", name, dlerror ());
      abort ();
    }
  return symbol;
}

/* Looked up at first use: GObject's constructor locks before this module's
 * would run. Two threads may look a symbol up at once; both find the same. */
#define TP_SHIM_REAL(ret, name, params) \
  static ret (*real_##name) params; \
  static inline ret (*tp_shim_real_##name (void)) params \
  { \
    ret (*fn) params = __atomic_load_n (&real_##name, __ATOMIC_ACQUIRE); \
    if (G_UNLIKELY (fn == NULL)) \
      { \
        fn = (ret (*) params) tp_shim_next (#name); \
        __atomic_store_n (&real_##name, fn, __ATOMIC_RELEASE); \
      } \
    return fn; \
  }
#define REAL(name) (tp_shim_real_##name ())

/* Not in the public header, exported by the runtime: while a thread ignores,
 * its accesses (and those of malloc, free, memset…) are not recorded */
void tsan_ignore_thread_begin (void);
void tsan_ignore_thread_end (void);

/* Calls GLib with the thread's accesses ignored. For calls that run no code
 * of the program's (no callback, no finalizer): what GLib allocates, frees or
 * clears there is its own memory, guarded by its own invisible locks, such as
 * the nodes of a GAsyncQueue or of a context's source list. */
#define IGNORED(call) \
  G_STMT_START { tsan_ignore_thread_begin (); call; tsan_ignore_thread_end (); } G_STMT_END

TP_SHIM_REAL (void, g_mutex_init, (GMutex *))
TP_SHIM_REAL (void, g_mutex_clear, (GMutex *))
TP_SHIM_REAL (void, g_mutex_lock, (GMutex *))
TP_SHIM_REAL (void, g_mutex_unlock, (GMutex *))
TP_SHIM_REAL (gboolean, g_mutex_trylock, (GMutex *))
TP_SHIM_REAL (void, g_rec_mutex_init, (GRecMutex *))
TP_SHIM_REAL (void, g_rec_mutex_clear, (GRecMutex *))
TP_SHIM_REAL (void, g_rec_mutex_lock, (GRecMutex *))
TP_SHIM_REAL (void, g_rec_mutex_unlock, (GRecMutex *))
TP_SHIM_REAL (gboolean, g_rec_mutex_trylock, (GRecMutex *))
TP_SHIM_REAL (void, g_rw_lock_init, (GRWLock *))
TP_SHIM_REAL (void, g_rw_lock_clear, (GRWLock *))
TP_SHIM_REAL (void, g_rw_lock_writer_lock, (GRWLock *))
TP_SHIM_REAL (void, g_rw_lock_writer_unlock, (GRWLock *))
TP_SHIM_REAL (gboolean, g_rw_lock_writer_trylock, (GRWLock *))
TP_SHIM_REAL (void, g_rw_lock_reader_lock, (GRWLock *))
TP_SHIM_REAL (void, g_rw_lock_reader_unlock, (GRWLock *))
TP_SHIM_REAL (gboolean, g_rw_lock_reader_trylock, (GRWLock *))
TP_SHIM_REAL (void, g_cond_wait, (GCond *, GMutex *))
TP_SHIM_REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64))
TP_SHIM_REAL (void, g_cond_signal, (GCond *))
TP_SHIM_REAL (void, g_cond_broadcast, (GCond *))
TP_SHIM_REAL (gboolean, g_once_init_enter, (volatile void *))
TP_SHIM_REAL (void, g_once_init_leave, (volatile void *, gsize))
TP_SHIM_REAL (gpointer, g_once_impl, (GOnce *, GThreadFunc, gpointer))
TP_SHIM_REAL (void, g_object_unref, (gpointer))
TP_SHIM_REAL (gpointer, g_type_class_ref, (GType))
TP_SHIM_REAL (GObject *, g_object_new_valist, (GType, const gchar *, va_list))
TP_SHIM_REAL (GObject *, g_object_new_with_properties,
              (GType, guint, const char **, const GValue *))
TP_SHIM_REAL (GThreadPool *, g_thread_pool_new, (GFunc, gpointer, gint, gboolean, GError **))
TP_SHIM_REAL (GThreadPool *, g_thread_pool_new_full,
              (GFunc, gpointer, GDestroyNotify, gint, gboolean, GError **))
TP_SHIM_REAL (gboolean, g_thread_pool_push, (GThreadPool *, gpointer, GError **))
TP_SHIM_REAL (void, g_thread_pool_free, (GThreadPool *, gboolean, gboolean))
TP_SHIM_REAL (void, g_async_queue_push, (GAsyncQueue *, gpointer))
TP_SHIM_REAL (void, g_async_queue_push_front, (GAsyncQueue *, gpointer))
TP_SHIM_REAL (gpointer, g_async_queue_pop, (GAsyncQueue *))
TP_SHIM_REAL (gpointer, g_async_queue_try_pop, (GAsyncQueue *))
TP_SHIM_REAL (gpointer, g_async_queue_timeout_pop, (GAsyncQueue *, guint64))
TP_SHIM_REAL (GSource *, g_source_new, (GSourceFuncs *, guint))
TP_SHIM_REAL (guint, g_source_attach, (GSource *, GMainContext *))
TP_SHIM_REAL (void, g_source_set_ready_time, (GSource *, gint64))
TP_SHIM_REAL (void, g_source_set_callback_indirect, (GSource *, gpointer, GSourceCallbackFuncs *))
TP_SHIM_REAL (void, g_main_context_unref, (GMainContext *))
TP_SHIM_REAL (void, g_main_context_wakeup, (GMainContext *))
TP_SHIM_REAL (gboolean, g_main_context_iteration, (GMainContext *, gboolean))
TP_SHIM_REAL (void, g_main_context_invoke_full,
              (GMainContext *, gint, GSourceFunc, gpointer, GDestroyNotify))
TP_SHIM_REAL (void, g_main_loop_run, (GMainLoop *))
TP_SHIM_REAL (void, g_main_loop_quit, (GMainLoop *))
TP_SHIM_REAL (int, pthread_setname_np, (pthread_t, const char *))

/* }}} */

/* Locks {{{ */

TP_SHIM_EXPORT void
g_mutex_init (GMutex *mutex)
{
  REAL (g_mutex_init) (mutex);
  tsan_mutex_create (mutex, 0);
}

TP_SHIM_EXPORT void
g_mutex_clear (GMutex *mutex)
{
  tsan_mutex_destroy (mutex, 0);
  REAL (g_mutex_clear) (mutex);
}

TP_SHIM_EXPORT void
g_mutex_lock (GMutex *mutex)
{
  tsan_mutex_pre_lock (mutex, 0);
  REAL (g_mutex_lock) (mutex);
  tsan_mutex_post_lock (mutex, 0, 0);
}

TP_SHIM_EXPORT void
g_mutex_unlock (GMutex *mutex)
{
  tsan_mutex_pre_unlock (mutex, 0);
  REAL (g_mutex_unlock) (mutex);
  tsan_mutex_post_unlock (mutex, 0);
}

TP_SHIM_EXPORT gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;

  tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  locked = REAL (g_mutex_trylock) (mutex);
  tsan_mutex_post_lock (mutex, locked ? __tsan_mutex_try_lock
                                        : __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

TP_SHIM_EXPORT void
g_rec_mutex_init (GRecMutex *mutex)
{
  REAL (g_rec_mutex_init) (mutex);
  tsan_mutex_create (mutex, __tsan_mutex_write_reentrant);
}

TP_SHIM_EXPORT void
g_rec_mutex_clear (GRecMutex *mutex)
{
  tsan_mutex_destroy (mutex, 0);
  REAL (g_rec_mutex_clear) (mutex);
}

TP_SHIM_EXPORT void
g_rec_mutex_lock (GRecMutex *mutex)
{
  tsan_mutex_pre_lock (mutex, __tsan_mutex_write_reentrant);
  REAL (g_rec_mutex_lock) (mutex);
  tsan_mutex_post_lock (mutex, __tsan_mutex_write_reentrant, 0);
}

TP_SHIM_EXPORT void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  tsan_mutex_pre_unlock (mutex, 0);
  REAL (g_rec_mutex_unlock) (mutex);
  tsan_mutex_post_unlock (mutex, 0);
}

TP_SHIM_EXPORT gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  unsigned flags = __tsan_mutex_write_reentrant | __tsan_mutex_try_lock;
  gboolean locked;

  tsan_mutex_pre_lock (mutex, flags);
  locked = REAL (g_rec_mutex_trylock) (mutex);
  tsan_mutex_post_lock (mutex, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

TP_SHIM_EXPORT void
g_rw_lock_init (GRWLock *lock)
{
  REAL (g_rw_lock_init) (lock);
  tsan_mutex_create (lock, __tsan_mutex_read_reentrant);
}

TP_SHIM_EXPORT void
g_rw_lock_clear (GRWLock *lock)
{
  tsan_mutex_destroy (lock, 0);
  REAL (g_rw_lock_clear) (lock);
}

TP_SHIM_EXPORT void
g_rw_lock_writer_lock (GRWLock *lock)
{
  tsan_mutex_pre_lock (lock, __tsan_mutex_read_reentrant);
  REAL (g_rw_lock_writer_lock) (lock);
  tsan_mutex_post_lock (lock, __tsan_mutex_read_reentrant, 0);
}

TP_SHIM_EXPORT void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  tsan_mutex_pre_unlock (lock, 0);
  REAL (g_rw_lock_writer_unlock) (lock);
  tsan_mutex_post_unlock (lock, 0);
}

TP_SHIM_EXPORT gboolean
g_rw_lock_writer_trylock (GRWLock *lock)
{
  unsigned flags = __tsan_mutex_read_reentrant | __tsan_mutex_try_lock;
  gboolean locked;

  tsan_mutex_pre_lock (lock, flags);
  locked = REAL (g_rw_lock_writer_trylock) (lock);
  tsan_mutex_post_lock (lock, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

TP_SHIM_EXPORT void
g_rw_lock_reader_lock (GRWLock *lock)
{
  unsigned flags = __tsan_mutex_read_reentrant | __tsan_mutex_read_lock;

  tsan_mutex_pre_lock (lock, flags);
  REAL (g_rw_lock_reader_lock) (lock);
  tsan_mutex_post_lock (lock, flags, 0);
}

TP_SHIM_EXPORT void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  tsan_mutex_pre_unlock (lock, __tsan_mutex_read_lock);
  REAL (g_rw_lock_reader_unlock) (lock);
  tsan_mutex_post_unlock (lock, __tsan_mutex_read_lock);
}

TP_SHIM_EXPORT gboolean
g_rw_lock_reader_trylock (GRWLock *lock)
{
  unsigned flags = __tsan_mutex_read_reentrant | __tsan_mutex_try_read_lock;
  gboolean locked;

  tsan_mutex_pre_lock (lock, flags);
  locked = REAL (g_rw_lock_reader_trylock) (lock);
  tsan_mutex_post_lock (lock, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

/* GCond: the wait releases the mutex and takes it again; what the signaller
 * did before signalling happens before the waiter wakes */
static void
tp_shim_cond_before_wait (GMutex *mutex)
{
  tsan_mutex_pre_unlock (mutex, 0);
  tsan_mutex_post_unlock (mutex, 0);
}

static void
tp_shim_cond_after_wait (GCond  *cond,
                         GMutex *mutex)
{
  tsan_mutex_pre_lock (mutex, 0);
  tsan_mutex_post_lock (mutex, 0, 0);
  tsan_acquire (cond);
}

TP_SHIM_EXPORT void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  tp_shim_cond_before_wait (mutex);
  REAL (g_cond_wait) (cond, mutex);
  tp_shim_cond_after_wait (cond, mutex);
}

TP_SHIM_EXPORT gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  tp_shim_cond_before_wait (mutex);
  signalled = REAL (g_cond_wait_until) (cond, mutex, end_time);
  tp_shim_cond_after_wait (cond, mutex);
  return signalled;
}

TP_SHIM_EXPORT void
g_cond_signal (GCond *cond)
{
  tsan_release (cond);
  REAL (g_cond_signal) (cond);
}

TP_SHIM_EXPORT void
g_cond_broadcast (GCond *cond)
{
  tsan_release (cond);
  REAL (g_cond_broadcast) (cond);
}

/* }}} */

/* Once {{{ */

TP_SHIM_EXPORT gboolean
g_once_init_enter (volatile void *location)
{
  gboolean enter = REAL (g_once_init_enter) (location);

  /* Another thread initialized it while this one waited */
  if (!enter)
    tsan_acquire ((void *) location);
  return enter;
}

TP_SHIM_EXPORT void
g_once_init_leave (volatile void *location,
                   gsize          result)
{
  /* The inline fast path's atomic load acquires from this address */
  tsan_release ((void *) location);
  REAL (g_once_init_leave) (location, result);
}

typedef struct {
  GOnce       *once;
  GThreadFunc  func;
  gpointer     arg;
} TpShimOnce;

static gpointer
tp_shim_once_func (gpointer data)
{
  TpShimOnce *call = data;
  gpointer retval = call->func (call->arg);

  tsan_release (call->once);
  return retval;
}

TP_SHIM_EXPORT gpointer
g_once_impl (GOnce       *once,
             GThreadFunc  func,
             gpointer     arg)
{
  TpShimOnce call = { once, func, arg };
  gpointer retval = REAL (g_once_impl) (once, tp_shim_once_func, &call);

  tsan_acquire (once);
  return retval;
}

/* }}} */

/* Objects {{{ */

/* Called on the thread that disposes the object, before its finalization */
static void
tp_shim_object_disposed (gpointer  data,
                         GObject  *where_the_object_was)
{
  tsan_acquire (where_the_object_was);
}

TP_SHIM_EXPORT void
g_object_unref (gpointer object)
{
  static GQuark watched;

  /* As an instrumented reference count would be: each unref releases, and
   * the thread that disposes and finalizes the object acquires all of
   * them, through a weak reference added at the object's first unref. An
   * acquire here would come too early: another thread may drop its
   * reference between it and the decrement that makes this one the last. */
  if (G_IS_OBJECT (object))
    {
      if (G_UNLIKELY (watched == 0))
        watched = g_quark_from_static_string ("tp-tsan-shim-watched");
      tsan_ignore_thread_begin ();
      if (g_object_get_qdata (object, watched) == NULL)
        {
          g_object_set_qdata (object, watched, GINT_TO_POINTER (TRUE));
          g_object_weak_ref (object, tp_shim_object_disposed, NULL);
        }
      tsan_ignore_thread_end ();
      tsan_release (object);
    }
  REAL (g_object_unref) (object);
}

/* A class is initialized once, by the first thread that asks for it, and
 * GObject publishes it with atomics of its own, which ThreadSanitizer does
 * not see: a class initialized on one thread and read through an instance
 * made on another (a GTask's, first made by a producer thread) would look
 * like a race. So the thread that initializes a class releases it as soon as
 * g_type_class_ref() returns, and every thread acquires it when it gets the
 * class or makes an instance. Only the initialization releases: a release
 * at every g_object_new() would order every two threads that make objects
 * of one class (every submitter of a pool, through its GTasks) and hide
 * their real races. Two threads that both find the class new at once both
 * release, once. */
static gboolean
tp_shim_class_is_new (GType type)
{
  return g_type_class_peek (type) == NULL;
}

/* Initializes @type's class if no thread did yet, and releases it. The
 * reference is kept, as g_object_new() keeps its own. */
static void
tp_shim_class_ensure (GType type)
{
  if (tp_shim_class_is_new (type))
    tsan_release (REAL (g_type_class_ref) (type));
}

static GObject *
tp_shim_object_made (GObject *object)
{
  if (object != NULL)
    tsan_acquire (G_OBJECT_GET_CLASS (object));
  return object;
}

TP_SHIM_EXPORT gpointer
g_type_class_ref (GType type)
{
  gboolean is_new = tp_shim_class_is_new (type);
  gpointer klass = REAL (g_type_class_ref) (type);

  if (is_new)
    tsan_release (klass);
  tsan_acquire (klass);
  return klass;
}

TP_SHIM_EXPORT gpointer
g_object_new (GType        object_type,
              const gchar *first_property_name,
              ...)
{
  GObject *object;
  va_list args;

  tp_shim_class_ensure (object_type);
  va_start (args, first_property_name);
  object = REAL (g_object_new_valist) (object_type, first_property_name, args);
  va_end (args);
  return tp_shim_object_made (object);
}

TP_SHIM_EXPORT GObject *
g_object_new_valist (GType        object_type,
                     const gchar *first_property_name,
                     va_list      args)
{
  tp_shim_class_ensure (object_type);
  return tp_shim_object_made (REAL (g_object_new_valist) (object_type, first_property_name, args));
}

TP_SHIM_EXPORT GObject *
g_object_new_with_properties (GType          object_type,
                              guint          n_properties,
                              const char    *names[],
                              const GValue   values[])
{
  tp_shim_class_ensure (object_type);
  return tp_shim_object_made (REAL (g_object_new_with_properties) (object_type, n_properties,
                                                                   names, values));
}

/* }}} */

/* Thread pools and queues {{{ */

/* The threads of GLib's thread pools (named "pool-<program>" by GLib, and
 * "pool-spawner", which starts them) run GLib's code between the calls of a
 * pool's function: popping the next item, parking in the global pool of
 * unused threads, relaying wake-up markers, freeing a pool freed without
 * waiting. All of it is GLib's memory behind GLib's locks, so these threads
 * ignore their accesses except while they run a pool's function. GLib names
 * a thread as it starts; the ignoring ends before the thread does, in a
 * thread-specific destructor that runs before ThreadSanitizer's. */
static __thread gboolean tp_shim_ignoring;
static pthread_key_t tp_shim_worker_key;

static void
tp_shim_worker_exit (gpointer data)
{
  if (tp_shim_ignoring)
    {
      tp_shim_ignoring = FALSE;
      tsan_ignore_thread_end ();
    }
}

/* Made before main(), so that its destructor comes before those of the
 * program's GPrivates, which then run with their accesses seen */
__attribute__ ((constructor)) static void
tp_shim_init (void)
{
  if (pthread_key_create (&tp_shim_worker_key, tp_shim_worker_exit) != 0)
    abort ();
}

TP_SHIM_EXPORT int
pthread_setname_np (pthread_t   thread,
                    const char *name)
{
  if (pthread_equal (thread, pthread_self ()) && strncmp (name, "pool", 4) == 0 &&
      !tp_shim_ignoring)
    {
      pthread_setspecific (tp_shim_worker_key, GINT_TO_POINTER (TRUE));
      tp_shim_ignoring = TRUE;
      tsan_ignore_thread_begin ();
    }
  return REAL (pthread_setname_np) (thread, name);
}

/* A thread pool's function and data; the pool runs tp_shim_pool_func() */
typedef struct {
  GFunc    func;
  gpointer user_data;
  gboolean frees_items;  /* g_thread_pool_free() may call the program's item_free_func */
} TpShimPool;

static void
tp_shim_pool_func (gpointer data,
                   gpointer user_data)
{
  TpShimPool *shim = user_data;
  gboolean ignoring = tp_shim_ignoring;

  if (ignoring)
    {
      tp_shim_ignoring = FALSE;
      tsan_ignore_thread_end ();
    }
  tsan_acquire (shim);
  shim->func (data, shim->user_data);
  tsan_release (shim);
  if (ignoring)
    {
      tsan_ignore_thread_begin ();
      tp_shim_ignoring = TRUE;
    }
}

static TpShimPool *
tp_shim_pool_new (GFunc          func,
                  gpointer       user_data,
                  GDestroyNotify item_free_func)
{
  TpShimPool *shim = malloc (sizeof *shim);

  if (shim == NULL)
    abort ();
  shim->func = func;
  shim->user_data = user_data;
  shim->frees_items = item_free_func != NULL;
  tsan_release (shim);
  return shim;
}

TP_SHIM_EXPORT GThreadPool *
g_thread_pool_new (GFunc     func,
                   gpointer  user_data,
                   gint      max_threads,
                   gboolean  exclusive,
                   GError  **error)
{
  TpShimPool *shim = tp_shim_pool_new (func, user_data, NULL);
  GThreadPool *pool;

  IGNORED (pool = REAL (g_thread_pool_new) (tp_shim_pool_func, shim, max_threads, exclusive,
                                            error));

  if (pool == NULL)
    free (shim);
  return pool;
}

TP_SHIM_EXPORT GThreadPool *
g_thread_pool_new_full (GFunc           func,
                        gpointer        user_data,
                        GDestroyNotify  item_free_func,
                        gint            max_threads,
                        gboolean        exclusive,
                        GError        **error)
{
  TpShimPool *shim = tp_shim_pool_new (func, user_data, item_free_func);
  GThreadPool *pool;

  IGNORED (pool = REAL (g_thread_pool_new_full) (tp_shim_pool_func, shim, item_free_func,
                                                 max_threads, exclusive, error));

  if (pool == NULL)
    free (shim);
  return pool;
}

TP_SHIM_EXPORT gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  gboolean pushed;

  /* The pool's queue is behind one lock, as the pool is here: its items
   * need not be pointers */
  if (pool != NULL && pool->func == tp_shim_pool_func)
    tsan_release (pool->user_data);
  IGNORED (pushed = REAL (g_thread_pool_push) (pool, data, error));
  return pushed;
}

TP_SHIM_EXPORT void
g_thread_pool_free (GThreadPool *pool,
                    gboolean     immediate,
                    gboolean     wait_)
{
  TpShimPool *shim = pool->func == tp_shim_pool_func ? pool->user_data : NULL;

  /* Freeing wakes the pool's threads with markers in its queue: GLib's memory */
  if (shim != NULL && shim->frees_items && immediate)
    REAL (g_thread_pool_free) (pool, immediate, wait_);
  else
    IGNORED (REAL (g_thread_pool_free) (pool, immediate, wait_));
  if (shim != NULL && wait_)
    {
      /* Every call of the function has returned */
      tsan_acquire (shim);
      free (shim);
    }
  /* Without waiting, the pool's threads may still use it: it stays */
}

TP_SHIM_EXPORT void
g_async_queue_push (GAsyncQueue *queue,
                    gpointer     data)
{
  tsan_release (queue);
  IGNORED (REAL (g_async_queue_push) (queue, data));
}

TP_SHIM_EXPORT void
g_async_queue_push_front (GAsyncQueue *queue,
                          gpointer     data)
{
  tsan_release (queue);
  IGNORED (REAL (g_async_queue_push_front) (queue, data));
}

TP_SHIM_EXPORT gpointer
g_async_queue_pop (GAsyncQueue *queue)
{
  gpointer data;

  IGNORED (data = REAL (g_async_queue_pop) (queue));
  tsan_acquire (queue);
  return data;
}

TP_SHIM_EXPORT gpointer
g_async_queue_try_pop (GAsyncQueue *queue)
{
  gpointer data;

  IGNORED (data = REAL (g_async_queue_try_pop) (queue));

  if (data != NULL)
    tsan_acquire (queue);
  return data;
}

TP_SHIM_EXPORT gpointer
g_async_queue_timeout_pop (GAsyncQueue *queue,
                           guint64      timeout)
{
  gpointer data;

  IGNORED (data = REAL (g_async_queue_timeout_pop) (queue, timeout));

  if (data != NULL)
    tsan_acquire (queue);
  return data;
}

/* }}} */

/* Main contexts and sources {{{ */

/* What a thread did before it attached a source, set a ready time, woke a
 * context or added an idle happens before what the context runs next */
static void
tp_shim_release_context (GMainContext *context)
{
  tsan_release (context != NULL ? context : g_main_context_default ());
}

static void
tp_shim_acquire_source (GSource *source)
{
  /* GSource's fields are public; its context is set once, when attached */
  GMainContext *context = __atomic_load_n (&source->context, __ATOMIC_RELAXED);

  if (context != NULL)
    tsan_acquire (context);
  tsan_acquire (source);
}

/* A source's callback, set through g_source_set_callback_indirect() */
typedef struct {
  int            ref_count;
  GSourceFunc    func;
  gpointer       data;
  GDestroyNotify notify;
} TpShimCallback;

static void
tp_shim_callback_ref (gpointer data)
{
  TpShimCallback *callback = data;

  __atomic_add_fetch (&callback->ref_count, 1, __ATOMIC_RELAXED);
}

static void
tp_shim_callback_unref (gpointer data)
{
  TpShimCallback *callback = data;

  tsan_release (callback);
  if (__atomic_sub_fetch (&callback->ref_count, 1, __ATOMIC_ACQ_REL) == 0)
    {
      tsan_acquire (callback);
      if (callback->notify != NULL)
        callback->notify (callback->data);
      free (callback);
    }
}

/* GLib calls this on the context's thread just before dispatching */
static void
tp_shim_callback_get (gpointer     data,
                      GSource     *source,
                      GSourceFunc *func,
                      gpointer    *func_data)
{
  TpShimCallback *callback = data;

  tsan_acquire (callback);
  tp_shim_acquire_source (source);
  *func = callback->func;
  *func_data = callback->data;
}

static GSourceCallbackFuncs tp_shim_callback_funcs = {
  tp_shim_callback_ref,
  tp_shim_callback_unref,
  tp_shim_callback_get,
};

TP_SHIM_EXPORT void
g_source_set_callback (GSource        *source,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify)
{
  TpShimCallback *callback = malloc (sizeof *callback);

  if (callback == NULL)
    abort ();
  callback->ref_count = 1;
  callback->func = func;
  callback->data = data;
  callback->notify = notify;
  tsan_release (callback);
  REAL (g_source_set_callback_indirect) (source, callback, &tp_shim_callback_funcs);
}

/* Sources made with g_source_new() get a copy of their functions that
 * acquires what was released towards the source and its context. The copies
 * live as long as the process; a program has few kinds of sources. */
typedef struct {
  GSourceFuncs        funcs;     /* first: GLib calls through it */
  const GSourceFuncs *original;
} TpShimSourceFuncs;

#define TP_SHIM_MAX_SOURCE_FUNCS 64

static TpShimSourceFuncs tp_shim_source_funcs[TP_SHIM_MAX_SOURCE_FUNCS];
static guint tp_shim_n_source_funcs;
static pthread_mutex_t tp_shim_source_funcs_lock = PTHREAD_MUTEX_INITIALIZER;

static const GSourceFuncs *
tp_shim_original_funcs (GSource *source)
{
  return ((const TpShimSourceFuncs *) source->source_funcs)->original;
}

static gboolean
tp_shim_source_prepare (GSource *source,
                        gint    *timeout)
{
  tp_shim_acquire_source (source);
  return tp_shim_original_funcs (source)->prepare (source, timeout);
}

static gboolean
tp_shim_source_check (GSource *source)
{
  tp_shim_acquire_source (source);
  return tp_shim_original_funcs (source)->check (source);
}

static gboolean
tp_shim_source_dispatch (GSource     *source,
                         GSourceFunc  callback,
                         gpointer     user_data)
{
  tp_shim_acquire_source (source);
  return tp_shim_original_funcs (source)->dispatch (source, callback, user_data);
}

static GSourceFuncs *
tp_shim_wrap_source_funcs (GSourceFuncs *original)
{
  TpShimSourceFuncs *wrapped = NULL;

  pthread_mutex_lock (&tp_shim_source_funcs_lock);
  for (guint i = 0; i < tp_shim_n_source_funcs && wrapped == NULL; i++)
    if (tp_shim_source_funcs[i].original == original)
      wrapped = &tp_shim_source_funcs[i];
  if (wrapped == NULL && tp_shim_n_source_funcs < TP_SHIM_MAX_SOURCE_FUNCS)
    {
      wrapped = &tp_shim_source_funcs[tp_shim_n_source_funcs++];
      wrapped->original = original;
      wrapped->funcs = *original;
      /* A NULL prepare or check means something to GLib: keep it */
      if (original->prepare != NULL)
        wrapped->funcs.prepare = tp_shim_source_prepare;
      if (original->check != NULL)
        wrapped->funcs.check = tp_shim_source_check;
      if (original->dispatch != NULL)
        wrapped->funcs.dispatch = tp_shim_source_dispatch;
    }
  pthread_mutex_unlock (&tp_shim_source_funcs_lock);

  return wrapped != NULL ? &wrapped->funcs : original;
}

TP_SHIM_EXPORT GSource *
g_source_new (GSourceFuncs *source_funcs,
              guint         struct_size)
{
  GSourceFuncs *funcs = tp_shim_wrap_source_funcs (source_funcs);
  GSource *source;

  IGNORED (source = REAL (g_source_new) (funcs, struct_size));
  return source;
}

TP_SHIM_EXPORT guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  guint id;

  tsan_release (source);
  tp_shim_release_context (context);
  IGNORED (id = REAL (g_source_attach) (source, context));
  return id;
}

TP_SHIM_EXPORT void
g_source_set_ready_time (GSource *source,
                         gint64   ready_time)
{
  GMainContext *context = __atomic_load_n (&source->context, __ATOMIC_RELAXED);

  tsan_release (source);
  if (context != NULL)
    tsan_release (context);
  IGNORED (REAL (g_source_set_ready_time) (source, ready_time));
}

TP_SHIM_EXPORT void
g_main_context_unref (GMainContext *context)
{
  /* The last unref frees the context and closes its wake-up descriptor,
   * which its owner polled and read: GLib's memory, reference counted by
   * GLib's atomics. (What a source left in it runs when it is destroyed
   * then goes unchecked.) */
  tp_shim_release_context (context);
  IGNORED (REAL (g_main_context_unref) (context));
}

TP_SHIM_EXPORT void
g_main_context_wakeup (GMainContext *context)
{
  tp_shim_release_context (context);
  IGNORED (REAL (g_main_context_wakeup) (context));
}

TP_SHIM_EXPORT gboolean
g_main_context_iteration (GMainContext *context,
                          gboolean      may_block)
{
  gboolean dispatched = REAL (g_main_context_iteration) (context, may_block);

  /* An iteration takes the context's lock, as attaching and waking do */
  tsan_acquire (context != NULL ? context : g_main_context_default ());
  return dispatched;
}

/* GLib's idle and timeout functions set the callback inside GLib: these set
 * it here, so that it is annotated */
static guint
tp_shim_add (GSource        *source,
             gint            priority,
             GSourceFunc     func,
             gpointer        data,
             GDestroyNotify  notify)
{
  guint id;

  if (priority != g_source_get_priority (source))
    g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, notify);
  id = g_source_attach (source, NULL);
  g_source_unref (source);
  return id;
}

TP_SHIM_EXPORT guint
g_idle_add_full (gint           priority,
                 GSourceFunc    function,
                 gpointer       data,
                 GDestroyNotify notify)
{
  GSource *source;

  g_return_val_if_fail (function != NULL, 0);
  IGNORED (source = g_idle_source_new ());
  return tp_shim_add (source, priority, function, data, notify);
}

TP_SHIM_EXPORT guint
g_idle_add (GSourceFunc function,
            gpointer    data)
{
  return g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, function, data, NULL);
}

TP_SHIM_EXPORT guint
g_timeout_add_full (gint           priority,
                    guint          interval,
                    GSourceFunc    function,
                    gpointer       data,
                    GDestroyNotify notify)
{
  GSource *source;

  g_return_val_if_fail (function != NULL, 0);
  IGNORED (source = g_timeout_source_new (interval));
  return tp_shim_add (source, priority, function, data, notify);
}

TP_SHIM_EXPORT guint
g_timeout_add (guint       interval,
               GSourceFunc function,
               gpointer    data)
{
  return g_timeout_add_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

TP_SHIM_EXPORT guint
g_timeout_add_seconds_full (gint           priority,
                            guint          interval,
                            GSourceFunc    function,
                            gpointer       data,
                            GDestroyNotify notify)
{
  GSource *source;

  g_return_val_if_fail (function != NULL, 0);
  IGNORED (source = g_timeout_source_new_seconds (interval));
  return tp_shim_add (source, priority, function, data, notify);
}

TP_SHIM_EXPORT guint
g_timeout_add_seconds (guint       interval,
                       GSourceFunc function,
                       gpointer    data)
{
  return g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

/* g_idle_add_once(), g_timeout_add_once(): a GSourceOnceFunc in a GSourceFunc */
typedef struct {
  GSourceOnceFunc func;
  gpointer        data;
} TpShimOnceCall;

static gboolean
tp_shim_once_call (gpointer data)
{
  TpShimOnceCall *call = data;

  call->func (call->data);
  return G_SOURCE_REMOVE;
}

static TpShimOnceCall *
tp_shim_once_call_new (GSourceOnceFunc func,
                       gpointer        data)
{
  TpShimOnceCall *call = malloc (sizeof *call);

  if (call == NULL)
    abort ();
  call->func = func;
  call->data = data;
  return call;
}

TP_SHIM_EXPORT guint
g_idle_add_once (GSourceOnceFunc function,
                 gpointer        data)
{
  GSource *source;

  g_return_val_if_fail (function != NULL, 0);
  IGNORED (source = g_idle_source_new ());
  return tp_shim_add (source, G_PRIORITY_DEFAULT_IDLE, tp_shim_once_call,
                      tp_shim_once_call_new (function, data), free);
}

TP_SHIM_EXPORT guint
g_timeout_add_once (guint           interval,
                    GSourceOnceFunc function,
                    gpointer        data)
{
  GSource *source;

  g_return_val_if_fail (function != NULL, 0);
  IGNORED (source = g_timeout_source_new (interval));
  return tp_shim_add (source, G_PRIORITY_DEFAULT, tp_shim_once_call,
                      tp_shim_once_call_new (function, data), free);
}

/* g_main_context_invoke(): the function may run at once or from an idle
 * that GLib makes itself; it runs through this trampoline either way */
typedef struct {
  GSourceFunc    func;
  gpointer       data;
  GDestroyNotify notify;
} TpShimInvoke;

static gboolean
tp_shim_invoke_func (gpointer data)
{
  TpShimInvoke *invoke = data;

  tsan_acquire (invoke);
  return invoke->func (invoke->data);
}

static void
tp_shim_invoke_free (gpointer data)
{
  TpShimInvoke *invoke = data;

  tsan_acquire (invoke);
  if (invoke->notify != NULL)
    invoke->notify (invoke->data);
  free (invoke);
}

TP_SHIM_EXPORT void
g_main_context_invoke_full (GMainContext   *context,
                            gint            priority,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  TpShimInvoke *invoke = malloc (sizeof *invoke);

  if (invoke == NULL)
    abort ();
  invoke->func = function;
  invoke->data = data;
  invoke->notify = notify;
  tsan_release (invoke);
  tp_shim_release_context (context);
  REAL (g_main_context_invoke_full) (context, priority, tp_shim_invoke_func, invoke,
                                     tp_shim_invoke_free);
}

TP_SHIM_EXPORT void
g_main_context_invoke (GMainContext *context,
                       GSourceFunc   function,
                       gpointer      data)
{
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, function, data, NULL);
}

TP_SHIM_EXPORT void
g_main_loop_quit (GMainLoop *loop)
{
  tsan_release (loop);
  IGNORED (REAL (g_main_loop_quit) (loop));
}

TP_SHIM_EXPORT void
g_main_loop_run (GMainLoop *loop)
{
  REAL (g_main_loop_run) (loop);
  tsan_acquire (loop);
}

/* }}} */
