// Application methods as plain transaction functions, and the one runner
// that executes them, hiding the commit queue the way LevelDB's
// DBImpl::Write hides its group commit behind one call.
//
// A method is a MethodSpec of two functions:
//   validate(caller, request)  pure: OK, or INVALID_ARGUMENT naming the
//                              field. No storage, no clock.
//   decide(tx, caller, request, now, response, effects)
//                              reads through `tx`, decides, fills
//                              `response`, and says in `effects` what to
//                              commit: the call's one audit record, the data
//                              changes, a refusal that still commits its
//                              record, and the versions the decision read.
//                              An error return commits nothing and is the
//                              call's answer.
//
// Runner::Run(spec, caller, request, response, done):
//   1. validate;
//   2. the read phase, on a read snapshot beside the writer, on the calling
//      thread: for a write, a retry of a request id already answered is
//      answered from the request log; otherwise decide;
//   3. the write phase, queued to the commit queue's one writer, in the
//      batch's transaction: when a version the decision read has moved
//      (a grant ended, the plan changed), decide again there, on the
//      writer's view; then the writes, the audit record, and for a write
//      the response saved for retries;
//   4. done(status) after the durable commit of the batch (on the commit
//      queue's completer thread), or at once when there is nothing to
//      commit.
// So a decision never relies on a grant ended before its record commits:
// an ending moves the subject's consent version, which the writer checks.
// A method marked in_writer skips step 2 and decides inside the writer
// (for work on many records at once, such as expiring grants).
//
// Tests call decide directly on a transaction, without threads; and
// AppContext::between_phases_for_testing runs between steps 2 and 3 to
// force races deterministically.

#ifndef SAMPLAN_APP_METHOD_H_
#define SAMPLAN_APP_METHOD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "app/app_support.h"
#include "app/caller.h"
#include "app/commit_queue.h"
#include "common/status_macros.h"
#include "google/protobuf/message.h"
#include "samplan/v1/audit.pb.h"
#include "storage/store.h"

namespace samplan::app {

// What a decision commits. Filled by a method's decide; applied by the
// runner in the writer's transaction. Not thread-safe.
class Effects {
 public:
  using Write = std::function<absl::Status(storage::Transaction&)>;

  // The call's one audit record; calling this means there is one.
  v1::AuditEvent* mutable_record() {
    has_record_ = true;
    return &record_;
  }
  bool has_record() const { return has_record_; }
  const v1::AuditEvent& record() const { return record_; }

  // A data change, run in the writer's transaction before the record is
  // appended, in the order added.
  void AddWrite(Write write) { writes_.push_back(std::move(write)); }
  // Work after the record is appended (signing a checkpoint that covers
  // it).
  void AddAfterRecord(Write write) { after_.push_back(std::move(write)); }

  // The call's answer when it is refused while its record still commits
  // (a read by an agency that may not see the plan).
  void Refuse(absl::Status refusal) { refusal_ = std::move(refusal); }
  const absl::Status& refusal() const { return refusal_; }

  // The decision relied on plan `plan_id` at `version` (PlanRepository::
  // Version), or on the consent data of `subject` at `version` (GrantStore::
  // ConsentVersion). Read them through the decision's transaction.
  void DependOnPlan(absl::string_view plan_id, int64_t version);
  void DependOnConsent(absl::string_view subject, int64_t version);
  // The same, reading the current version through `tx`.
  absl::Status DependOnPlan(storage::Transaction& tx,
                            absl::string_view plan_id);
  absl::Status DependOnConsent(storage::Transaction& tx,
                               absl::string_view subject);

  // True when every version depended on is still current in `tx`.
  absl::StatusOr<bool> VersionsHold(storage::Transaction& tx) const;

  // Runs `f` once the call's changes have committed (on the completer
  // thread, before the call is answered): for caches of what changed.
  void OnCommitted(std::function<void()> f) {
    committed_.push_back(std::move(f));
  }
  void RunCommitted() const {
    for (const auto& f : committed_) f();
  }

  // Whether the writer has anything to do.
  bool Empty() const {
    return !has_record_ && writes_.empty() && after_.empty();
  }

  // Runs the writes, appends the record (moving it out: record() is empty
  // afterwards), runs the after-record work. Once.
  absl::Status Apply(storage::Transaction& tx);

 private:
  struct Version {
    bool plan = false;  // else consent
    std::string key;
    int64_t value = 0;
  };
  bool has_record_ = false;
  v1::AuditEvent record_;
  std::vector<Write> writes_;
  std::vector<Write> after_;
  absl::Status refusal_;
  std::vector<Version> versions_;
  std::vector<std::function<void()>> committed_;
};

template <typename Request, typename Response>
struct MethodSpec {
  using Validate = absl::Status (*)(const AppContext&, const Caller&,
                                    const Request&);
  using Decide = absl::Status (*)(const AppContext&, storage::Transaction&,
                                  const Caller&, const Request&, absl::Time,
                                  Response*, Effects*);
  const char* name = "";
  // A write takes the request's request_id: it runs once per caller agency
  // and id, and a retry gets the first answer (REQUEST_ID_REUSED for a
  // different request with the same id).
  bool write = false;
  // Decide inside the writer's transaction only (no read phase).
  bool in_writer = false;
  Validate validate = nullptr;
  Decide decide = nullptr;
};

namespace internal {

// For a write: when (agency, request id) was answered before, fills
// `response` from the request log and returns true; REQUEST_ID_REUSED when
// it was used by another request. `fingerprint` is Fingerprint(request).
absl::StatusOr<bool> Replay(storage::Transaction& tx, const Caller& caller,
                            absl::string_view method,
                            absl::string_view fingerprint,
                            google::protobuf::Message* response);
// Saves the answer to a write for its retries.
absl::Status SaveAnswer(storage::Transaction& tx, const Caller& caller,
                        absl::string_view method, absl::string_view fingerprint,
                        const google::protobuf::Message& response,
                        absl::Time now);

// Only requests with a request id and message responses can be writes.
template <typename Request, typename Response>
inline constexpr bool kCanWrite = requires(const Request& r) {
  r.request_id();
}
&&std::is_base_of_v<google::protobuf::Message, Response>;

// For a write (spec.write): sets `caller->request_id` from the request and
// returns Fingerprint(request); "" for anything else.
template <typename Request, typename Response>
std::string StartWrite(const MethodSpec<Request, Response>& spec,
                       const Request& request, Caller* caller) {
  if constexpr (kCanWrite<Request, Response>) {
    if (spec.write) {
      caller->request_id = request.request_id();
      return Fingerprint(request);
    }
  }
  return "";
}

// The write phase of one call, in the writer's transaction `tx`: for a
// write, the answer of a retry from the request log; when `decided` (the
// read phase filled `*effects`) and every version it read still holds,
// that decision, else a decision here, on `tx`'s view; then the effects
// applied and a write's answer saved for retries. `caller.request_id` and
// `fingerprint` are set for a write.
template <typename Request, typename Response>
absl::Status WritePhase(const AppContext& ctx,
                        const MethodSpec<Request, Response>& spec,
                        storage::Transaction& tx, const Caller& caller,
                        absl::string_view fingerprint, const Request& request,
                        Response* response, bool decided, Effects* effects) {
  if constexpr (kCanWrite<Request, Response>) {
    if (spec.write) {
      ASSIGN_OR_RETURN(const bool replayed,
                       Replay(tx, caller, spec.name, fingerprint, response));
      if (replayed) {
        *effects = Effects();
        return absl::OkStatus();
      }
    }
  }
  bool holds = false;
  if (decided) {
    ASSIGN_OR_RETURN(holds, effects->VersionsHold(tx));
  }
  if (!holds) {
    response->Clear();
    *effects = Effects();
    RETURN_IF_ERROR(spec.decide(ctx, tx, caller, request, ctx.clock->Now(),
                                response, effects));
  }
  RETURN_IF_ERROR(effects->Apply(tx));
  if constexpr (kCanWrite<Request, Response>) {
    if (spec.write && effects->refusal().ok()) {
      RETURN_IF_ERROR(SaveAnswer(tx, caller, spec.name, fingerprint, *response,
                                 ctx.clock->Now()));
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

// A MethodSpec's validate made from the method's parser: the parse, its
// result dropped.
template <typename Request, typename Parsed,
          absl::StatusOr<Parsed> (*Parse)(const AppContext&, const Caller&,
                                          const Request&)>
absl::Status ValidateBy(const AppContext& ctx, const Caller& caller,
                        const Request& req) {
  return Parse(ctx, caller, req).status();
}

// Defines Methods::kName from ParseName and DecideName (in scope where it
// is used) and App::Name, which runs it on the app's runner_.
#define SAMPLAN_DEFINE_METHOD(App, Methods, Name, Write, InWriter)            \
  const ::samplan::app::MethodSpec<v1::Name##Request, v1::Name##Response>     \
      Methods::k##Name{                                                       \
          #Name, Write, InWriter,                                             \
          &::samplan::app::ValidateBy<                                        \
              v1::Name##Request,                                              \
              std::invoke_result_t<decltype(&Parse##Name), const AppContext&, \
                                   const Caller&,                             \
                                   const v1::Name##Request&>::value_type,     \
              &Parse##Name>,                                                  \
          &Decide##Name};                                                     \
  void App::Name(const Caller& caller, const v1::Name##Request& req,          \
                 v1::Name##Response* resp, Done done) {                       \
    runner_.Run(Methods::k##Name, caller, req, resp, std::move(done));        \
  }

// Runs one call to its end inside `tx`, a write transaction the caller
// holds (samplan-datagen writes thousands of calls in one), deciding at
// ctx.clock->Now(): validate, for a write the request log, decide, apply
// the effects, save a write's answer; exactly what the writer does, with
// no read phase. Returns the call's answer: OK, a refusal whose record was
// appended all the same, or an error that applied nothing (an error while
// applying leaves `tx` to be rolled back). Caches in `ctx` are not told of
// the changes (they have not committed): use a context without them.
template <typename Request, typename Response>
absl::Status RunInTransaction(const AppContext& ctx,
                              const MethodSpec<Request, Response>& spec,
                              storage::Transaction& tx, const Caller& caller,
                              const Request& request, Response* response);

// Runs methods (see the file comment). Thread-safe; `ctx` must outlive it.
class Runner {
 public:
  explicit Runner(const AppContext& ctx) : ctx_(ctx) {}

  // `request` and `response` must stay valid until `done` runs.
  template <typename Request, typename Response>
  void Run(const MethodSpec<Request, Response>& spec, const Caller& caller,
           const Request& request, Response* response,
           std::function<void(absl::Status)> done) const;

 private:
  const AppContext& ctx_;
};

template <typename Request, typename Response>
void Runner::Run(const MethodSpec<Request, Response>& spec,
                 const Caller& caller, const Request& request,
                 Response* response,
                 std::function<void(absl::Status)> done) const {
  absl::Status valid = spec.validate(ctx_, caller, request);
  if (!valid.ok()) return done(valid);

  // The call's state, shared with the writer's job.
  struct Call {
    Caller caller;
    std::string fingerprint;
    Effects effects;
    bool replayed = false;
  };
  auto call = std::make_shared<Call>();
  call->caller = caller;
  call->fingerprint = internal::StartWrite(spec, request, &call->caller);
  constexpr bool kCanWrite = internal::kCanWrite<Request, Response>;
  const AppContext& ctx = ctx_;

  // 2. The read phase.
  if (!spec.in_writer) {
    const absl::Time now = ctx.clock->Now();
    absl::Status read =
        ctx.store->Read([&](storage::Transaction& tx) -> absl::Status {
          if constexpr (kCanWrite) {
            if (spec.write) {
              ASSIGN_OR_RETURN(call->replayed,
                               internal::Replay(tx, call->caller, spec.name,
                                                call->fingerprint, response));
              if (call->replayed) return absl::OkStatus();
            }
          }
          return spec.decide(ctx, tx, call->caller, request, now, response,
                             &call->effects);
        });
    if (!read.ok()) return done(read);
    if (call->replayed || call->effects.Empty()) {
      return done(call->effects.refusal());
    }
    if (ctx.between_phases_for_testing) ctx.between_phases_for_testing();
  }

  // 3. The write phase, in the writer.
  ctx.queue->Submit(
      [&ctx, &spec, call, &request,
       response](storage::Transaction& tx) -> absl::Status {
        return internal::WritePhase(
            ctx, spec, tx, call->caller, call->fingerprint, request, response,
            /*decided=*/!spec.in_writer, &call->effects);
      },
      [call, done = std::move(done)](absl::Status s) {
        if (s.ok()) call->effects.RunCommitted();
        done(s.ok() ? call->effects.refusal() : s);
      });
}

template <typename Request, typename Response>
absl::Status RunInTransaction(const AppContext& ctx,
                              const MethodSpec<Request, Response>& spec,
                              storage::Transaction& tx, const Caller& caller,
                              const Request& request, Response* response) {
  RETURN_IF_ERROR(spec.validate(ctx, caller, request));
  Caller c = caller;
  const std::string fingerprint = internal::StartWrite(spec, request, &c);
  Effects effects;
  RETURN_IF_ERROR(internal::WritePhase(ctx, spec, tx, c, fingerprint, request,
                                       response, /*decided=*/false, &effects));
  return effects.refusal();
}

}  // namespace samplan::app

#endif  // SAMPLAN_APP_METHOD_H_
