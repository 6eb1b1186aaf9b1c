// ThreadSanitizer and Debian's Abseil: libabsl_synchronization is built
// without TSan, so TSan cannot see that absl::Mutex, absl::CondVar and
// absl::Notification order memory, and reports races that are not there.
// Linked into every executable of the tsan preset (never elsewhere), this
// file defines the synchronizing members of those classes itself, under
// their exported names: each calls Abseil's own definition (found with
// dlsym(RTLD_NEXT)) and tells TSan what it did: a lock acquires the
// mutex, an unlock releases it, a wait releases it and acquires it again,
// Notify releases and the waits on a notification acquire. The calls from
// Abseil itself and from gRPC reach these definitions too, because the
// executable's symbols come first.
//
// Inside Abseil's own code, while it locks or unlocks, a thread evaluates
// the conditions of LockWhen and Await, its own and other waiters', with
// the mutex held but outside these annotations; those reads are hidden
// from TSan (they are reads under the lock). Reader locks are annotated as
// exclusive ones: TSan then misses a write made under a reader lock, which
// the lock's users and annotalysis already forbid.

#ifndef SAMPLAN_TSAN
#error "only for -fsanitize=thread builds (the tsan preset)"
#endif

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();

namespace {

template <typename Fn>
Fn Next(const char* name) {
  void* f = ::dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan annotations: no %s in Abseil\n", name);
    std::abort();
  }
  return reinterpret_cast<Fn>(f);
}

void Acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
void Release(const void* p) { __tsan_release(const_cast<void*>(p)); }

// The flag a notification's HasBeenNotified() reads (inline, so
// instrumented): the member after its mutex.
static_assert(sizeof(absl::Mutex) == sizeof(void*));
const void* NotifiedFlag(const absl::Notification* n) {
  return reinterpret_cast<const char*>(n) + sizeof(absl::Mutex);
}

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

}  // namespace

// One definition per exported member: `ret name(args)` under the symbol
// `sym`, calling the next definition of `sym` as `call`, with `before` and
// `after` around it (`r` holds the result).
#define SAMPLAN_WRAP(sym, ret, params, args, before, after) \
  extern "C" ret sym params;                                \
  extern "C" ret sym params {                               \
    using Fn = ret(*) params;                               \
    static const Fn next = Next<Fn>(#sym);                  \
    before;                                                 \
    __tsan_ignore_thread_begin();                           \
    auto r = next args;                                     \
    __tsan_ignore_thread_end();                             \
    after;                                                  \
    return r;                                               \
  }
#define SAMPLAN_WRAP_VOID(sym, params, args, before, after) \
  extern "C" void sym params;                               \
  extern "C" void sym params {                              \
    using Fn = void(*) params;                              \
    static const Fn next = Next<Fn>(#sym);                  \
    before;                                                 \
    __tsan_ignore_thread_begin();                           \
    next args;                                              \
    __tsan_ignore_thread_end();                             \
    after;                                                  \
  }

// Mutex: locks and unlocks.
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex4LockEv, (Mutex * m), (m), , Acquire(m))
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex10ReaderLockEv, (Mutex * m), (m), ,
                  Acquire(m))
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex6UnlockEv, (Mutex * m), (m),
                  Release(m), )
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex12ReaderUnlockEv, (Mutex * m), (m),
                  Release(m), )
SAMPLAN_WRAP(_ZN4absl7debian35Mutex7TryLockEv, bool, (Mutex * m), (m), ,
             if (r) Acquire(m))
SAMPLAN_WRAP(_ZN4absl7debian35Mutex13ReaderTryLockEv, bool, (Mutex * m), (m), ,
             if (r) Acquire(m))

// Mutex: lock when a condition holds (the lock is held on return, also
// after a timeout).
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE,
                  (Mutex * m, const Condition& c), (m, c), , Acquire(m))
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE,
                  (Mutex * m, const Condition& c), (m, c), , Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE,
    bool, (Mutex * m, const Condition& c, Duration d), (m, c, d), , Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE,
    bool, (Mutex * m, const Condition& c, Time t), (m, c, t), , Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE,
    bool, (Mutex * m, const Condition& c, Duration d), (m, c, d), , Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE,
    bool, (Mutex * m, const Condition& c, Time t), (m, c, t), , Acquire(m))

// Mutex: waits for a condition with the lock held (released meanwhile).
SAMPLAN_WRAP_VOID(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE,
                  (Mutex * m, const Condition& c), (m, c), Release(m),
                  Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE,
    bool, (Mutex * m, const Condition& c, Duration d), (m, c, d), Release(m),
    Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE, bool,
    (Mutex * m, const Condition& c, Time t), (m, c, t), Release(m), Acquire(m))

// CondVar: waits release the mutex and take it again.
SAMPLAN_WRAP_VOID(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE,
                  (CondVar * cv, Mutex* m), (cv, m), Release(m), Acquire(m))
SAMPLAN_WRAP(
    _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE, bool,
    (CondVar * cv, Mutex* m, Duration d), (cv, m, d), Release(m), Acquire(m))
SAMPLAN_WRAP(_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE,
             bool, (CondVar * cv, Mutex* m, Time t), (cv, m, t), Release(m),
             Acquire(m))

// Notification: Notify releases (to its waits, and to HasBeenNotified()'s
// load of the flag); the waits acquire.
SAMPLAN_WRAP_VOID(_ZN4absl7debian312Notification6NotifyEv, (Notification * n),
                  (n), (Release(n), Release(NotifiedFlag(n))), )
SAMPLAN_WRAP_VOID(_ZNK4absl7debian312Notification19WaitForNotificationEv,
                  (const Notification* n), (n), , Acquire(n))
SAMPLAN_WRAP(
    _ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE,
    bool, (const Notification* n, Duration d), (n, d), , Acquire(n))
SAMPLAN_WRAP(
    _ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE,
    bool, (const Notification* n, Time t), (n, t), , Acquire(n))
