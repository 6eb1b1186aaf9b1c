#include "storage/postgres_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace samplan::storage::postgres {
namespace {

constexpr unsigned kByteaOid = 17;

// The connection's own words when no result says more.
std::string ConnectionMessage(pg_conn* conn) {
  std::string m = PQerrorMessage(conn);
  while (!m.empty() && absl::ascii_isspace(m.back())) m.pop_back();
  return m;
}

// Throws the error of a failed result (cleared here), or of the connection.
[[noreturn]] void Throw(pg_conn* conn, pg_result* result) {
  std::string state = "08006";  // connection_failure
  std::string message = ConnectionMessage(conn);
  if (result != nullptr) {
    if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
      state = s;
    }
    if (const char* m = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
      message = m;
    }
    PQclear(result);
  }
  if (PQstatus(conn) != CONNECTION_OK) state = "08006";
  throw PgError(state, message);
}

bool Succeeded(pg_result* r) {
  const ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

}  // namespace

absl::Status FromPg(absl::string_view what, const PgError& e) {
  const std::string message = absl::StrCat("storage: ", what, ": ", e.what());
  const std::string& s = e.sqlstate();
  if (s == "23505") {
    return WithReason(absl::AlreadyExistsError(message), "ALREADY_EXISTS");
  }
  if (absl::StartsWith(s, "23")) return absl::FailedPreconditionError(message);
  // Connection exceptions, operator intervention (shutdown), insufficient
  // resources, serialization failure, deadlock, a lock or statement timeout:
  // the operation may be tried again.
  if (absl::StartsWith(s, "08") || absl::StartsWith(s, "57P") ||
      absl::StartsWith(s, "53") || s == "40001" || s == "40P01" ||
      s == "55P03" || s == "57014") {
    return WithMetadata(
        WithReason(absl::UnavailableError(message), "STORAGE_UNAVAILABLE"),
        "sqlstate", s);
  }
  // Data exceptions (class 22) may quote the value they refused; the
  // message, which reaches the service log, keeps only the SQLSTATE.
  if (absl::StartsWith(s, "22")) {
    return absl::InternalError(
        absl::StrCat("storage: ", what, ": data exception (SQLSTATE ", s, ")"));
  }
  // data_corrupted, index_corrupted: nothing damaged may be served.
  if (s == "XX001" || s == "XX002") {
    return WithReason(absl::DataLossError(message), "STORAGE_CORRUPT");
  }
  return absl::InternalError(message);
}

// --- PgColumn ---

bool PgColumn::isNull() const {
  return PQgetisnull(result_, row_, column_) != 0;
}

int64_t PgColumn::getInt64() const {
  int64_t v = 0;
  if (!absl::SimpleAtoi(PQgetvalue(result_, row_, column_), &v)) {
    const char* t = PQgetvalue(result_, row_, column_);
    // Booleans as 0 and 1, as SQLite gives them.
    if (t[0] == 't' && t[1] == 0) return 1;
    if (t[0] == 'f' && t[1] == 0) return 0;
    throw PgError("XX000", "a stored number does not parse");
  }
  return v;
}

std::string PgColumn::getString() const {
  const char* text = PQgetvalue(result_, row_, column_);
  if (PQftype(result_, column_) != kByteaOid) {
    return std::string(text, PQgetlength(result_, row_, column_));
  }
  size_t n = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
  if (bytes == nullptr) throw PgError("XX000", "a BYTEA value does not decode");
  std::string out(reinterpret_cast<const char*>(bytes), n);
  PQfreemem(bytes);
  return out;
}

const void* PgColumn::getBlob() const {
  *decoded_ = getString();
  return decoded_->data();
}

int PgColumn::getBytes() const {
  if (PQftype(result_, column_) == kByteaOid) {
    return static_cast<int>(getString().size());
  }
  return PQgetlength(result_, row_, column_);
}

// --- PgStatement ---

PgStatement::PgStatement(PgConnection& connection, std::string name,
                         std::string sql)
    : connection_(connection), name_(std::move(name)), sql_(std::move(sql)) {
  for (size_t i = 0; i < sql_.size(); ++i) {
    if (sql_[i] != '$') continue;
    size_t n = 0;
    size_t j = i + 1;
    while (j < sql_.size() && absl::ascii_isdigit(sql_[j])) {
      n = n * 10 + static_cast<size_t>(sql_[j] - '0');
      ++j;
    }
    if (n == 0) continue;
    if (named_.size() < n) named_.resize(n, false);
    named_[n - 1] = true;
  }
}

PgStatement::~PgStatement() { tryReset(); }

void PgStatement::bind(int index, int64_t value) {
  if (static_cast<size_t>(index) > params_.size()) params_.resize(index);
  params_[index - 1] = Param{absl::StrCat(value), false, false};
}

void PgStatement::bind(int index, const std::string& text) {
  if (static_cast<size_t>(index) > params_.size()) params_.resize(index);
  params_[index - 1] = Param{text, false, false};
}

void PgStatement::bind(int index, const void* data, int size) {
  if (static_cast<size_t>(index) > params_.size()) params_.resize(index);
  params_[index - 1] =
      Param{std::string(static_cast<const char*>(data), size), true, false};
}

void PgStatement::bindNull(int index) {
  if (static_cast<size_t>(index) > params_.size()) params_.resize(index);
  params_[index - 1] = Param{};
}

void PgStatement::Run() {
  pg_conn* conn = connection_.raw();
  if (!prepared_) {
    constexpr unsigned kTextOid = 25;
    std::vector<unsigned> types(std::max(named_.size(), params_.size()), 0);
    for (size_t i = 0; i < types.size(); ++i) {
      if (i >= named_.size() || !named_[i]) types[i] = kTextOid;
    }
    pg_result* r = PQprepare(conn, name_.c_str(), sql_.c_str(),
                             static_cast<int>(types.size()), types.data());
    if (r == nullptr || !Succeeded(r)) Throw(conn, r);
    PQclear(r);
    prepared_ = true;
    param_count_ = types.size();
  }
  // As many parameters as the statement was prepared with; unbound ones
  // are NULL.
  params_.resize(std::max(params_.size(), param_count_));
  std::vector<const char*> values(params_.size());
  std::vector<int> lengths(params_.size());
  std::vector<int> formats(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    values[i] = params_[i].null ? nullptr : params_[i].value.data();
    lengths[i] = static_cast<int>(params_[i].value.size());
    formats[i] = params_[i].binary ? 1 : 0;
  }
  tryReset();
  pg_result* r =
      PQexecPrepared(conn, name_.c_str(), static_cast<int>(params_.size()),
                     values.data(), lengths.data(), formats.data(),
                     /*resultFormat=*/0);
  if (r == nullptr || !Succeeded(r)) Throw(conn, r);
  result_ = r;
  row_ = -1;
}

bool PgStatement::executeStep() {
  if (result_ == nullptr) Run();
  ++row_;
  return row_ < PQntuples(result_);
}

int PgStatement::exec() {
  Run();
  int n = 0;
  if (!absl::SimpleAtoi(PQcmdTuples(result_), &n)) n = 0;
  return n;
}

PgColumn PgStatement::getColumn(int index) {
  return PgColumn(result_, row_, index, &decoded_);
}

void PgStatement::tryReset() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
}

void PgStatement::clearBindings() {
  for (Param& p : params_) p = Param{};
}

// --- PgConnection ---

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(
    const std::string& conninfo) {
  // Defaults first: what the operator's string names overrides them.
  // Keepalives let a server notice within about two minutes that a peer
  // holding a lock (the maintenance lead, a writer) vanished with its host.
  const char* const keywords[] = {"connect_timeout",
                                  "keepalives_idle",
                                  "keepalives_interval",
                                  "keepalives_count",
                                  "application_name",
                                  "dbname",
                                  nullptr};
  const char* const values[] = {
      "5", "60", "10", "3", "samplan-server", conninfo.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn != nullptr && PQstatus(conn) == CONNECTION_OK) {
    // libpq prints notices, and a server's message to an idle session
    // ("terminating connection due to administrator command"), on stderr:
    // unformatted lines in the service log, which may be JSON. What
    // matters reaches the caller as a status when the session is next used.
    PQsetNoticeReceiver(
        conn, [](void*, const PGresult*) {}, nullptr);
    // A writer waits for the tree state lock while other servers' batches
    // commit (milliseconds each); ten seconds means one is stuck. A
    // transaction left open by a frozen server must not keep that lock.
    pg_result* r = PQexec(conn,
                          "SET lock_timeout = '10s'; "
                          "SET idle_in_transaction_session_timeout = '30s'");
    const bool set = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!set) {
      const std::string why = ConnectionMessage(conn);
      PQfinish(conn);
      return WithReason(
          absl::UnavailableError(absl::StrCat(
              "storage: cannot set up a PostgreSQL session: ", why)),
          "STORAGE_UNAVAILABLE");
    }
  }
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    const std::string why =
        conn == nullptr ? "out of memory" : ConnectionMessage(conn);
    if (conn != nullptr) PQfinish(conn);
    // libpq's message names the host and port, not the password.
    return WithReason(absl::UnavailableError(absl::StrCat(
                          "storage: cannot connect to PostgreSQL: ", why)),
                      "STORAGE_UNAVAILABLE");
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() {
  cache_.clear();  // statements clear their results first
  text_cache_.clear();
  PQfinish(conn_);
}

template <typename Key>
PgStatement& PgConnection::Cached(
    absl::flat_hash_map<Key, std::unique_ptr<PgStatement>>& cache,
    const Key& key, absl::string_view sql) {
  auto it = cache.find(key);
  if (it == cache.end()) {
    it = cache
             .emplace(key,
                      std::make_unique<PgStatement>(
                          *this, absl::StrCat("s", ++next_name_), Dollars(sql)))
             .first;
  }
  PgStatement& s = *it->second;
  s.tryReset();
  s.clearBindings();
  return s;
}

PgStatement& PgConnection::Prepare(const char* sql) {
  return Cached(cache_, sql, sql);
}

PgStatement& PgConnection::PrepareText(const std::string& sql) {
  return Cached(text_cache_, sql, sql);
}

void PgConnection::Exec(const char* sql) {
  pg_result* r = PQexec(conn_, sql);
  if (r == nullptr || !Succeeded(r)) Throw(conn_, r);
  PQclear(r);
}

bool PgConnection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

std::string PgConnection::Dollars(absl::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // inside '...' or "..."
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // '' re-enters at once: the same result
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?' && i + 1 < sql.size() &&
               absl::ascii_isdigit(sql[i + 1])) {
      out.push_back('$');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace samplan::storage::postgres
