/* test-tsan-shim.c: what the preloaded shim lets ThreadSanitizer see
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built only in a thread-sanitized build, and run with tp-tsan-shim.c
 * preloaded (the `tsan` test setup). Each case hands plain, unsynchronized
 * data from one thread to another through one of GLib's primitives, the way
 * the library and its tests do: with the shim, ThreadSanitizer must report
 * nothing (it fails the test with exit code 66 otherwise).
 *
 * With `--race`, the program runs /tsan/race instead: two threads write a
 * plain variable with nothing between them. ThreadSanitizer must report it,
 * so the test that runs it is expected to fail: it shows that the sanitizer
 * and the shim are at work, and that the shim does not hide a real race.
 */

#include <gio/gio.h>

#define N_ROUNDS 200

/* Plain data, never atomic: the hand-off alone orders the accesses */
typedef struct {
  int      value;
  int      seen;
  gboolean done;
} Parcel;

/* GMutex, GRecMutex, GRWLock {{{ */

/* Each counter has its lock */
static GMutex mutex;
static GRecMutex rec_mutex;
static GRWLock rw_lock;
static int mutex_counter;
static int rec_counter;
static int rw_counter;

static gpointer
mutex_thread (gpointer data)
{
  for (int i = 0; i < N_ROUNDS; i++)
    {
      g_mutex_lock (&mutex);
      mutex_counter++;
      g_mutex_unlock (&mutex);

      g_rec_mutex_lock (&rec_mutex);
      g_rec_mutex_lock (&rec_mutex);
      rec_counter++;
      g_rec_mutex_unlock (&rec_mutex);
      g_rec_mutex_unlock (&rec_mutex);

      g_rw_lock_writer_lock (&rw_lock);
      rw_counter++;
      g_rw_lock_writer_unlock (&rw_lock);

      g_rw_lock_reader_lock (&rw_lock);
      g_assert_cmpint (rw_counter, >, 0);
      g_rw_lock_reader_unlock (&rw_lock);

      while (!g_mutex_trylock (&mutex))
        g_thread_yield ();
      mutex_counter++;
      g_mutex_unlock (&mutex);
    }
  return NULL;
}

static void
test_locks (void)
{
  GThread *threads[3];

  g_test_summary ("Plain counters under GMutex, GRecMutex and GRWLock from three threads");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("locker", mutex_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  /* Each round, the mutex twice (with the trylock), the others once */
  g_assert_cmpint (mutex_counter, ==, (int) G_N_ELEMENTS (threads) * N_ROUNDS * 2);
  g_assert_cmpint (rec_counter, ==, (int) G_N_ELEMENTS (threads) * N_ROUNDS);
  g_assert_cmpint (rw_counter, ==, (int) G_N_ELEMENTS (threads) * N_ROUNDS);
}

/* }}} */

/* GCond {{{ */

static GMutex cond_mutex;
static GCond cond;
static Parcel cond_parcel;

static gpointer
cond_thread (gpointer data)
{
  g_mutex_lock (&cond_mutex);
  cond_parcel.value = 42;
  cond_parcel.done = TRUE;
  g_cond_signal (&cond);
  g_mutex_unlock (&cond_mutex);
  return NULL;
}

static void
test_cond (void)
{
  GThread *thread;

  g_test_summary ("A value set under a mutex and signalled through a GCond");
  thread = g_thread_new ("signaller", cond_thread, NULL);
  g_mutex_lock (&cond_mutex);
  while (!cond_parcel.done)
    g_cond_wait_until (&cond, &cond_mutex, g_get_monotonic_time () + G_USEC_PER_SEC);
  g_assert_cmpint (cond_parcel.value, ==, 42);
  g_mutex_unlock (&cond_mutex);
  g_thread_join (thread);
}

/* }}} */

/* g_once_init_enter/leave {{{ */

static Parcel *once_parcel;

static Parcel *
get_once_parcel (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      once_parcel = g_new0 (Parcel, 1);
      once_parcel->value = 7;
      g_once_init_leave (&initialized, 1);
    }
  return once_parcel;
}

static gpointer
once_thread (gpointer data)
{
  return GINT_TO_POINTER (get_once_parcel ()->value);
}

static void
test_once (void)
{
  GThread *threads[4];

  g_test_summary ("Data written before g_once_init_leave() read after g_once_init_enter()");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("once", once_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (threads[i])), ==, 7);
  g_free (once_parcel);
}

/* }}} */

/* GThreadPool, GAsyncQueue {{{ */

static void
pool_func (gpointer data,
           gpointer user_data)
{
  Parcel *parcel = data;

  parcel->seen = parcel->value + 1;
}

static void
test_thread_pool (void)
{
  Parcel parcels[32] = { { 0 } };
  GThreadPool *pool = g_thread_pool_new (pool_func, NULL, 4, FALSE, NULL);

  g_test_summary ("Data pushed to a GThreadPool, read back once it is freed with waiting");
  for (guint i = 0; i < G_N_ELEMENTS (parcels); i++)
    {
      parcels[i].value = (int) i;
      g_thread_pool_push (pool, &parcels[i], NULL);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (parcels); i++)
    g_assert_cmpint (parcels[i].seen, ==, (int) i + 1);
}

static gpointer
queue_thread (gpointer data)
{
  GAsyncQueue *queue = data;

  for (int i = 0; i < N_ROUNDS; i++)
    {
      Parcel *parcel = g_new0 (Parcel, 1);

      parcel->value = i;
      g_async_queue_push (queue, parcel);
    }
  return NULL;
}

static void
test_async_queue (void)
{
  GAsyncQueue *queue = g_async_queue_new ();
  GThread *thread = g_thread_new ("pusher", queue_thread, queue);

  g_test_summary ("Data pushed on a GAsyncQueue by a thread, popped and freed by another");
  for (int i = 0; i < N_ROUNDS; i++)
    {
      Parcel *parcel = i % 2 ? g_async_queue_pop (queue)
                             : g_async_queue_timeout_pop (queue, 10 * G_USEC_PER_SEC);

      g_assert_nonnull (parcel);
      g_assert_cmpint (parcel->value, ==, i);
      g_free (parcel);
    }
  g_thread_join (thread);
  g_async_queue_unref (queue);
}

/* }}} */

/* Main contexts and sources {{{ */

static gboolean
parcel_idle_cb (gpointer data)
{
  Parcel *parcel = data;

  parcel->seen = parcel->value;
  parcel->done = TRUE;
  return G_SOURCE_REMOVE;
}

static void
parcel_once_cb (gpointer data)
{
  parcel_idle_cb (data);
}

typedef struct {
  GSource  source;
  Parcel  *parcel;
} ParcelSource;

static gboolean
parcel_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  ParcelSource *self = (ParcelSource *) source;

  g_source_set_ready_time (source, -1);
  return parcel_idle_cb (self->parcel);
}

static GSourceFuncs parcel_source_funcs = { NULL, NULL, parcel_source_dispatch, NULL, NULL, NULL };

typedef struct {
  GMainContext *context;
  GSource      *source;
  Parcel        parcels[6];
} Sender;

static gpointer
sender_thread (gpointer data)
{
  Sender *sender = data;
  GSource *idle = g_idle_source_new ();

  for (guint i = 0; i < G_N_ELEMENTS (sender->parcels); i++)
    sender->parcels[i].value = (int) i + 100;

  g_idle_add (parcel_idle_cb, &sender->parcels[0]);
  g_timeout_add (1, parcel_idle_cb, &sender->parcels[1]);
  g_idle_add_once (parcel_once_cb, &sender->parcels[2]);
  g_main_context_invoke (NULL, parcel_idle_cb, &sender->parcels[3]);
  g_source_set_callback (idle, parcel_idle_cb, &sender->parcels[4], NULL);
  g_source_attach (idle, NULL);
  g_source_unref (idle);
  /* A source made ready from this thread, as the pool wakes its own */
  ((ParcelSource *) sender->source)->parcel = &sender->parcels[5];
  g_source_set_ready_time (sender->source, 0);
  return NULL;
}

static gboolean
all_done (Sender *sender)
{
  for (guint i = 0; i < G_N_ELEMENTS (sender->parcels); i++)
    if (!sender->parcels[i].done)
      return FALSE;
  return TRUE;
}

static void
test_main_context (void)
{
  Sender sender = { 0 };
  GThread *thread;

  g_test_summary ("Data handed to the main context from another thread by an idle, a "
                  "timeout, an invocation, an attached source and a ready time");
  sender.source = g_source_new (&parcel_source_funcs, sizeof (ParcelSource));
  g_source_set_ready_time (sender.source, -1);
  g_source_attach (sender.source, NULL);

  thread = g_thread_new ("sender", sender_thread, &sender);
  while (!all_done (&sender))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  for (guint i = 0; i < G_N_ELEMENTS (sender.parcels); i++)
    g_assert_cmpint (sender.parcels[i].seen, ==, (int) i + 100);
  g_source_destroy (sender.source);
  g_source_unref (sender.source);
}

/* }}} */

/* Objects, GTask {{{ */

static void
parcel_free (gpointer data)
{
  Parcel *parcel = data;

  /* Runs on whichever thread drops the object last */
  g_assert_cmpint (parcel->seen, ==, parcel->value);
  g_free (parcel);
}

static gpointer
unref_thread (gpointer data)
{
  GObject *object = data;
  Parcel *parcel = g_object_get_data (object, "parcel");

  parcel->seen = parcel->value;
  g_object_unref (object);
  return NULL;
}

static void
test_object (void)
{
  g_test_summary ("Data written by a thread before it drops an object, read as the object is "
                  "finalized by another");
  for (int i = 0; i < N_ROUNDS; i++)
    {
      GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
      Parcel *parcel = g_new0 (Parcel, 1);
      GThread *thread;

      parcel->value = i;
      g_object_set_data_full (object, "parcel", parcel, parcel_free);
      thread = g_thread_new ("unref", unref_thread, g_object_ref (object));
      if (i % 2)
        g_thread_yield ();
      g_object_unref (object);
      g_thread_join (thread);
    }
}

static void
task_thread_func (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Parcel *parcel = task_data;

  parcel->seen = parcel->value;
  g_task_return_boolean (task, TRUE);
}

static void
task_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Parcel *parcel = user_data;

  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
  g_assert_cmpint (parcel->seen, ==, parcel->value);
  parcel->done = TRUE;
}

static void
test_task (void)
{
  Parcel parcel = { 5, 0, FALSE };
  GTask *task = g_task_new (NULL, NULL, task_done_cb, &parcel);

  g_test_summary ("Data written by a GTask's thread function, read by its callback");
  g_task_set_task_data (task, &parcel, NULL);
  g_task_run_in_thread (task, task_thread_func);
  g_object_unref (task);
  while (!parcel.done)
    g_main_context_iteration (NULL, TRUE);
}

/* A class initialized on one thread, its instance made on another: GObject
 * publishes the class with atomics of its own, which ThreadSanitizer does
 * not see. The flag between the two threads is relaxed, so that it orders
 * nothing for the sanitizer: only the shim's hand-off around g_object_new()
 * does. */
typedef struct {
  GObject parent_instance;
} TpShimLate;

typedef struct {
  GObjectClass parent_class;
  int          magic;    /* plain data, written by the class's init */
} TpShimLateClass;

static GType tp_shim_late_get_type (void);
G_DEFINE_TYPE (TpShimLate, tp_shim_late, G_TYPE_OBJECT)

static void
tp_shim_late_class_init (TpShimLateClass *klass)
{
  klass->magic = 0x5eed;
}

static void
tp_shim_late_init (TpShimLate *self)
{
}

static int late_class_ready;   /* only relaxed atomics */

static gpointer
late_class_thread (gpointer data)
{
  g_object_unref (g_object_new (tp_shim_late_get_type (), NULL));
  __atomic_store_n (&late_class_ready, 1, __ATOMIC_RELAXED);
  return NULL;
}

static gpointer
late_instance_thread (gpointer data)
{
  GObject *object;
  int magic;

  while (!__atomic_load_n (&late_class_ready, __ATOMIC_RELAXED))
    g_thread_yield ();
  object = g_object_new (tp_shim_late_get_type (), NULL);
  magic = ((TpShimLateClass *) G_OBJECT_GET_CLASS (object))->magic;
  g_object_unref (object);
  return GINT_TO_POINTER (magic);
}

static void
test_class (void)
{
  GThread *instance_thread;
  GThread *class_thread;

  g_test_summary ("A class initialized by one thread, read through an instance that another "
                  "thread made once the class was ready");
  /* Both threads first: their start orders nothing between them */
  instance_thread = g_thread_new ("instance", late_instance_thread, NULL);
  class_thread = g_thread_new ("class", late_class_thread, NULL);
  g_thread_join (class_thread);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (instance_thread)), ==, 0x5eed);
}

/* }}} */

/* The canary {{{ */

static int race_target;

static gpointer
race_thread (gpointer data)
{
  for (int i = 0; i < N_ROUNDS; i++)
    race_target++;
  return NULL;
}

static void
test_race (void)
{
  GThread *threads[2];

  g_test_summary ("Two threads write a plain variable with nothing between them: "
                  "ThreadSanitizer must report it, and the process exit with 66");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("racer", race_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  gboolean race = argc > 1 && g_strcmp0 (argv[1], "--race") == 0;

  if (race)
    {
      argv[1] = argv[0];
      argv++;
      argc--;
    }
  g_test_init (&argc, &argv, NULL);

  if (race)
    g_test_add_func ("/tsan/race", test_race);
  else
    {
      g_test_add_func ("/tsan/locks", test_locks);
      g_test_add_func ("/tsan/cond", test_cond);
      g_test_add_func ("/tsan/once", test_once);
      g_test_add_func ("/tsan/thread-pool", test_thread_pool);
      g_test_add_func ("/tsan/async-queue", test_async_queue);
      g_test_add_func ("/tsan/main-context", test_main_context);
      g_test_add_func ("/tsan/object", test_object);
      g_test_add_func ("/tsan/task", test_task);
      g_test_add_func ("/tsan/class", test_class);
    }
  return g_test_run ();
}
