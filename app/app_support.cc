#include "app/app_support.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "consent/identity_number.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"
#include "openssl/evp.h"
#include "openssl/hmac.h"
#include "openssl/rand.h"
#include "openssl/sha.h"
#include "samplan/v1/admin.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"
#include "samplan/v1/plan.pb.h"

namespace samplan::app {
namespace {

constexpr char kIdAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

class RandomIds final : public IdGenerator {
 public:
  std::string NewId() override {
    unsigned char bytes[20];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      // Without randomness no safe id can be made; stopping is safer than
      // reusing ids.
      std::fprintf(stderr, "samplan: RAND_bytes failed\n");
      std::abort();
    }
    std::string id(20, 'a');
    for (int i = 0; i < 20; ++i) id[i] = kIdAlphabet[bytes[i] % 36];
    return id;
  }
};

class SequentialIds final : public IdGenerator {
 public:
  std::string NewId() override {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "id%06lld",
                  static_cast<long long>(++next_));
    return buf;
  }

 private:
  std::atomic<int64_t> next_{0};
};

bool IsIdChar(char c) {
  return absl::ascii_islower(static_cast<unsigned char>(c)) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<IdGenerator> NewRandomIdGenerator() {
  return std::make_unique<RandomIds>();
}
std::unique_ptr<IdGenerator> NewSequentialIdGenerator() {
  return std::make_unique<SequentialIds>();
}

absl::Status CheckRequestId(absl::string_view request_id,
                            absl::string_view field) {
  if (request_id.empty()) return InvalidField(field, "is required");
  if (request_id.size() > 64) {
    return InvalidField(field, "may be at most 64 characters");
  }
  for (char c : request_id) {
    const auto u = static_cast<unsigned char>(c);
    if (!(absl::ascii_isalnum(u) || c == '.' || c == '_' || c == ':' ||
          c == '-')) {
      return InvalidField(field, "may contain only A-Z a-z 0-9 . _ : -");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseName(absl::string_view name,
                                      absl::string_view collection,
                                      absl::string_view field) {
  if (name.empty()) return InvalidField(field, "is required");
  const std::string prefix = absl::StrCat(collection, "/");
  if (!absl::StartsWith(name, prefix) ||
      !IsValidId(name.substr(prefix.size()))) {
    return InvalidField(field, absl::StrCat("must look like ", collection,
                                            "/{id}, the id 1-64 characters "
                                            "of a-z 0-9 -"));
  }
  return std::string(name.substr(prefix.size()));
}

absl::StatusOr<std::pair<std::string, std::string>> ParseChildName(
    absl::string_view name, absl::string_view collection,
    absl::string_view field) {
  if (name.empty()) return InvalidField(field, "is required");
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "plans" || parts[2] != collection ||
      !IsValidId(parts[1]) || !IsValidId(parts[3])) {
    return InvalidField(field, absl::StrCat("must look like plans/{plan}/",
                                            collection, "/{id}"));
  }
  return std::make_pair(std::string(parts[1]), std::string(parts[3]));
}

absl::StatusOr<std::string> ParseAgencyName(absl::string_view name,
                                            absl::string_view field) {
  if (name.empty()) return InvalidField(field, "is required");
  if (!absl::StartsWith(name, "agencies/") ||
      !consent::IsValidAgencyId(name.substr(9))) {
    return InvalidField(field,
                        "must look like agencies/{agency}, the id 2-63 "
                        "characters of a-z 0-9 -");
  }
  return std::string(name.substr(9));
}

absl::StatusOr<std::string> ParseIdentity(absl::string_view text,
                                          absl::string_view field) {
  if (text.empty()) return InvalidField(field, "is required");
  auto id = consent::IdentityNumber::Parse(text);
  if (!id.ok()) return InvalidField(field, id.status().message());
  return id->digits();
}

absl::StatusOr<absl::Time> ParseTime(const google::protobuf::Timestamp& t,
                                     bool present, absl::string_view field) {
  if (!present) return InvalidField(field, "is required");
  // The range of google.protobuf.Timestamp: years 0001 to 9999.
  if (t.seconds() < -62135596800LL || t.seconds() > 253402300799LL ||
      t.nanos() < 0 || t.nanos() > 999999999) {
    return InvalidField(field, "is not a valid timestamp");
  }
  return ToTime(t);
}

absl::Status CheckDate(const google::type::Date& d, absl::string_view field) {
  if (d.year() < 1900 || d.year() > 2200 || d.month() < 1 || d.month() > 12 ||
      d.day() < 1) {
    return InvalidField(field, "must be a full date (year, month, day)");
  }
  const absl::CivilDay day(d.year(), d.month(), d.day());
  if (day.year() != d.year() || day.month() != d.month() ||
      day.day() != d.day()) {
    return InvalidField(field, "does not exist on the calendar");
  }
  return absl::OkStatus();
}

absl::Status CheckEvidence(const v1::Evidence& e, bool present,
                           absl::string_view field) {
  if (!present || e.kind() == v1::EVIDENCE_KIND_UNSPECIFIED) {
    return InvalidField(absl::StrCat(field, ".kind"), "is required");
  }
  if (!v1::EvidenceKind_IsValid(e.kind())) {
    return InvalidField(absl::StrCat(field, ".kind"), "is not a known kind");
  }
  return CheckText(e.reference(), 200, false,
                   absl::StrCat(field, ".reference"));
}

absl::Status CheckText(absl::string_view text, size_t max, bool required,
                       absl::string_view field) {
  if (required && text.empty()) return InvalidField(field, "is required");
  if (text.size() > max) {
    return InvalidField(field, absl::StrCat("may be at most ", max, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(int32_t page_size, int max) {
  if (page_size < 0) return InvalidField("page_size", "may not be negative");
  max = std::min(max, kMaxPageSize);
  if (page_size == 0) return std::min(kDefaultPageSize, max);
  return std::min<int>(page_size, max);
}

namespace {

// A random key for this process: see KeyedTag().
const std::string& PageTokenKey() {
  static const std::string* const key = [] {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      std::fprintf(stderr, "samplan: RAND_bytes failed\n");
      std::abort();
    }
    return new std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  }();
  return *key;
}

}  // namespace

std::string KeyedTag(absl::string_view key_or_empty, absl::string_view text) {
  const absl::string_view key =
      key_or_empty.empty() ? PageTokenKey() : key_or_empty;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(),
           mac, &length) == nullptr) {
    return "-";
  }
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(mac), std::min(length, 12u)));
}

std::string DerivePageTokenKey(absl::string_view secret) {
  static constexpr char kLabel[] = "samplan page-token key v1";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(kLabel), sizeof(kLabel) - 1,
           mac, &length) == nullptr) {
    return std::string();  // the random per-process key, then
  }
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string EncodePageToken(absl::string_view scope, absl::string_view after) {
  return absl::WebSafeBase64Escape(absl::StrCat(scope, "\n", after));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view scope) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) ||
      !absl::StartsWith(raw, absl::StrCat(scope, "\n"))) {
    return Error(absl::StatusCode::kInvalidArgument, "INVALID_PAGE_TOKEN",
                 "page_token",
                 "is not a token this method returned for these filters");
  }
  return raw.substr(scope.size() + 1);
}

void SetDate(absl::CivilDay day, google::type::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

std::string Fingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const auto* field = copy->GetDescriptor()->FindFieldByName("request_id");
  if (field != nullptr) copy->GetReflection()->ClearField(copy.get(), field);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

v1::AuditEvent NewEvent(const Caller& caller, int action,
                        absl::string_view subject, absl::string_view resource,
                        absl::Time now) {
  v1::AuditEvent e;
  SetTimestamp(now, e.mutable_time());
  e.set_agency(caller.agency_name());
  e.set_actor(caller.actor);
  e.set_certificate(caller.certificate);
  e.set_action(static_cast<v1::AuditAction>(action));
  e.set_subject(std::string(subject));
  e.set_resource(std::string(resource));
  e.set_request_id(caller.request_id);
  return e;
}

absl::Status PlanNotFound(absl::string_view plan_id) {
  return NotFound(absl::StrCat("plans/", plan_id), "plan not found");
}

int PlanGround(const v1::Plan* newest, absl::string_view agency_id,
               bool takes_part, std::string* denial) {
  if (newest == nullptr) {
    *denial = "the plan does not exist";
    return v1::DECISION_REASON_UNSPECIFIED;
  }
  const bool lead =
      newest->lead_agency() == absl::StrCat("agencies/", agency_id);
  if (lead) return v1::DECISION_REASON_LEAD_AGENCY;
  if (!takes_part) {
    *denial = "the agency does not take part in the plan";
    return v1::DECISION_REASON_UNSPECIFIED;
  }
  if (newest->state() == v1::PLAN_STATE_DRAFT) {
    *denial = "draft: lead agency only";
    return v1::DECISION_REASON_UNSPECIFIED;
  }
  return v1::DECISION_REASON_PLAN_PARTICIPANT;
}

absl::StatusOr<VisiblePlan> FindVisiblePlan(storage::Transaction& tx,
                                            absl::string_view agency_id,
                                            absl::string_view plan_id) {
  absl::StatusOr<v1::Plan> plan = tx.plans().Get(plan_id);
  if (absl::IsNotFound(plan.status())) return PlanNotFound(plan_id);
  RETURN_IF_ERROR(plan.status());
  ASSIGN_OR_RETURN(const bool takes_part,
                   tx.plans().TakesPart(plan_id, agency_id));
  std::string denial;
  VisiblePlan out;
  out.ground = PlanGround(&*plan, agency_id, takes_part, &denial);
  if (out.ground == v1::DECISION_REASON_UNSPECIFIED) {
    return PlanNotFound(plan_id);
  }
  out.plan = std::make_unique<v1::Plan>(*std::move(plan));
  return out;
}

absl::StatusOr<bool> SeesPlanAbout(storage::Transaction& tx,
                                   absl::string_view agency_id,
                                   absl::string_view subject) {
  ASSIGN_OR_RETURN(std::vector<v1::Plan> plans,
                   tx.plans().ListForAgency(agency_id, subject, 0, "", 1));
  return !plans.empty();
}

absl::StatusOr<absl::flat_hash_map<std::string, v1::Agency>> ReadAgencies(
    storage::Transaction& tx, const std::vector<std::string>& names) {
  absl::flat_hash_map<std::string, v1::Agency> out;
  for (const std::string& name : names) {
    if (name.empty() || out.contains(name)) continue;
    absl::StatusOr<v1::Agency> agency =
        tx.agencies().Get(absl::StripPrefix(name, "agencies/"));
    if (absl::IsNotFound(agency.status())) continue;
    if (!agency.ok()) return agency.status();
    out.emplace(name, *std::move(agency));
  }
  return out;
}

}  // namespace samplan::app
