#include "audit/verify.h"

#include <algorithm>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "audit/export_line.h"
#include "audit/leaf.h"
#include "google/protobuf/util/json_util.h"
#include "samplan/v1/audit.pb.h"

namespace samplan::audit {
namespace {

// Skips JSON whitespace in `s` from `*i`.
void SkipSpace(absl::string_view s, size_t* i) {
  while (*i < s.size() &&
         (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r' || s[*i] == '\n')) {
    ++*i;
  }
}

// The raw text of the string value of the top-level member `key` of the
// JSON object `line`, when the key occurs literally (as the exporter writes
// it); nullopt otherwise. Only used on lines that already parsed, for
// base64 values, which never contain escapes.
std::optional<absl::string_view> RawStringMember(absl::string_view line,
                                                 absl::string_view key) {
  const std::string quoted = absl::StrCat("\"", key, "\"");
  for (size_t at = line.find(quoted); at != absl::string_view::npos;
       at = line.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    SkipSpace(line, &i);
    if (i >= line.size() || line[i] != ':') continue;  // a value, not a key
    ++i;
    SkipSpace(line, &i);
    if (i >= line.size() || line[i] != '"') return std::nullopt;
    const size_t end = line.find('"', i + 1);
    if (end == absl::string_view::npos) return std::nullopt;
    return line.substr(i + 1, end - i - 1);
  }
  return std::nullopt;
}

// Whether the leaf hash is written as the proto3 JSON mapping writes bytes:
// standard base64 with padding. Parsers also accept URL-safe base64, missing
// padding and nonzero padding bits, so without this check a byte of the
// export could change without changing any event.
bool CanonicalLeafHash(absl::string_view line, const std::string& leaf_hash) {
  std::optional<absl::string_view> raw = RawStringMember(line, "leafHash");
  if (!raw.has_value()) raw = RawStringMember(line, "leaf_hash");
  return raw.has_value() && *raw == absl::Base64Escape(leaf_hash);
}

// Lines parsed and hashed together, on every core.
constexpr size_t kChunkLines = 4096;

// What one line holds: its leaf hash, or (problem not empty) what is wrong
// with it, naming it.
struct LineCheck {
  Hash hash{};
  std::string problem;
};

// Step 3 for line `index` (0-based) of the export: it parses strictly as an
// AuditEvent, holds leaf `index` in a known leaf format, and its leafHash is
// its content's, written canonically. `event` is scratch space.
LineCheck CheckLine(int64_t index, const std::string& line,
                    v1::AuditEvent* event) {
  LineCheck out;
  const auto leaf = [index] { return absl::StrCat("leaf ", index); };
  // A line as the server prints it is parsed fast; anything else by
  // protobuf's strict parser, which accepts or rejects it (export_line.h).
  const bool printed = ParseExportLine(line, event);
  if (!printed) {
    const std::string where = absl::StrCat(leaf(), " (line ", index + 1, ")");
    if (line.empty()) {
      out.problem =
          absl::StrCat(where, ": not a valid audit event: the line is empty");
      return out;
    }
    // One JSON object per line, nothing around it.
    if (line.front() != '{' || line.back() != '}') {
      out.problem = absl::StrCat(where,
                                 ": not a valid audit event: the line is not "
                                 "exactly one JSON object");
      return out;
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(line, event, options);
    if (!parsed.ok()) {
      out.problem = absl::StrCat(
          where, ": not a valid audit event: ",
          absl::string_view(parsed.message().data(), parsed.message().size()));
      return out;
    }
  }
  if (event->leaf_index() > index) {
    out.problem =
        absl::StrCat(leaf(), " is missing: line ", index + 1, " holds leaf ",
                     event->leaf_index(), " (an event was removed or moved)");
    return out;
  }
  if (event->leaf_index() < index) {
    out.problem = absl::StrCat(leaf(), " is out of place: line ", index + 1,
                               " holds leaf ", event->leaf_index(),
                               " (events were reordered or inserted)");
    return out;
  }
  if (!KnownLeafFormat(event->leaf_format())) {
    out.problem =
        absl::StrCat(leaf(), " has leaf format ", event->leaf_format(),
                     ", which this verifier does not know");
    return out;
  }
  out.hash = EventLeafHash(*event);
  if (event->leaf_hash().empty()) {
    out.problem = absl::StrCat(leaf(), " has no leafHash");
    return out;
  }
  // A printed line's hash is in canonical base64 already.
  if (event->leaf_hash() != ToBytes(out.hash) ||
      (!printed && !CanonicalLeafHash(line, event->leaf_hash()))) {
    out.problem = absl::StrCat(leaf(),
                               " was altered: its content does not match its "
                               "leaf hash");
  }
  return out;
}

}  // namespace

VerifyResult VerifyExport(std::istream& export_lines,
                          absl::string_view checkpoint_note,
                          const NoteVerifier& key,
                          absl::string_view saved_checkpoint_note) {
  VerifyResult result;
  CompactRange range;
  const auto fail = [&](int64_t index, std::string problem) {
    result.ok = false;
    result.failed_index = index;
    result.problem = std::move(problem);
    result.root = range.Root();
    return result;
  };

  // 1. The checkpoint: its signature and origin.
  absl::StatusOr<CheckpointBody> checkpoint =
      OpenCheckpoint(key, checkpoint_note);
  if (!checkpoint.ok()) {
    return fail(-1,
                absl::StrCat("checkpoint: ", checkpoint.status().message()));
  }
  result.checkpoint = *checkpoint;
  if (checkpoint->origin != key.key_name()) {
    return fail(-1,
                absl::StrCat("checkpoint: its origin \"", checkpoint->origin,
                             "\" is not the log of key ", key.key_name()));
  }
  const int64_t tree_size = checkpoint->tree_size;

  // 2. The saved checkpoint, if any.
  std::optional<CheckpointBody> saved;
  if (!saved_checkpoint_note.empty()) {
    absl::StatusOr<CheckpointBody> s =
        OpenCheckpoint(key, saved_checkpoint_note);
    if (!s.ok()) {
      return fail(-1, absl::StrCat("saved checkpoint: ", s.status().message()));
    }
    if (s->origin != checkpoint->origin) {
      return fail(-1, absl::StrCat("saved checkpoint: its origin \"", s->origin,
                                   "\" is not the checkpoint's \"",
                                   checkpoint->origin, "\""));
    }
    if (s->tree_size > tree_size) {
      return fail(-1,
                  absl::StrCat("saved checkpoint: its tree size ", s->tree_size,
                               " is larger than the checkpoint's ", tree_size,
                               " (the log shrank)"));
    }
    saved = *std::move(s);
  }
  // The root of the first saved->tree_size leaves, once they are read.
  std::optional<Hash> saved_prefix_root;
  if (saved.has_value() && saved->tree_size == 0) {
    saved_prefix_root = EmptyRoot();
  }

  // 3. Every line, in order. Lines are read in chunks, and a chunk's lines
  // are parsed and hashed on every core at once, up to 8 (each line on its
  // own);
  // then, in order, the first problem stops the check and the hashes go
  // into the tree. A chunk and the right edge of the tree are held at a
  // time: memory does not grow with the export.
  const unsigned workers =
      std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<std::string> chunk;
  std::vector<LineCheck> checks;
  int64_t index = 0;
  for (bool more = true; more;) {
    chunk.clear();
    std::string line;
    while (chunk.size() < kChunkLines &&
           (more = static_cast<bool>(std::getline(export_lines, line)))) {
      chunk.push_back(std::move(line));
    }
    checks.assign(chunk.size(), LineCheck());
    const size_t per_worker = (chunk.size() + workers - 1) / workers;
    auto check_part = [&](size_t begin) {
      v1::AuditEvent event;
      const size_t end = std::min(chunk.size(), begin + per_worker);
      for (size_t i = begin; i < end; ++i) {
        checks[i] =
            CheckLine(index + static_cast<int64_t>(i), chunk[i], &event);
      }
    };
    std::vector<std::thread> threads;
    for (size_t begin = per_worker; begin < chunk.size(); begin += per_worker) {
      try {
        threads.emplace_back(check_part, begin);
      } catch (const std::system_error&) {
        check_part(begin);  // no thread to be had: this one does it
      }
    }
    if (!chunk.empty()) check_part(0);
    for (std::thread& t : threads) t.join();

    for (size_t i = 0; i < chunk.size(); ++i, ++index) {
      result.events = index + 1;
      if (!checks[i].problem.empty()) {
        return fail(index, std::move(checks[i].problem));
      }
      // 4, for lines past the end.
      if (index >= tree_size) {
        return fail(
            index, absl::StrCat("leaf ", index, " is beyond the checkpoint of ",
                                tree_size, " events (an event was inserted)"));
      }
      range.Append(checks[i].hash);
      if (saved.has_value() && range.size() == saved->tree_size) {
        saved_prefix_root = range.Root();
      }
    }
  }
  result.events = index;

  // 4. Nothing missing at the end.
  if (index < tree_size) {
    return fail(index, absl::StrCat("leaf ", index,
                                    " is missing: the export ends "
                                    "after ",
                                    index, " events but the checkpoint covers ",
                                    tree_size, " (the log was truncated)"));
  }

  // 5. The saved checkpoint's tree is a prefix of this one.
  if (saved.has_value() && saved_prefix_root != saved->root) {
    return fail(-1, absl::StrCat("saved checkpoint: the root hash of the "
                                 "first ",
                                 saved->tree_size,
                                 " events does not match the saved "
                                 "checkpoint (the log was rewritten since: "
                                 "an event below index ",
                                 saved->tree_size, " differs)"));
  }

  // 6. The checkpoint's root.
  result.root = range.Root();
  if (result.root != checkpoint->root) {
    return fail(-1, absl::StrCat("the root hash of the ", tree_size,
                                 " events does not match the signed "
                                 "checkpoint (an event below index ",
                                 tree_size,
                                 " differs from the one the server logged)"));
  }
  result.ok = true;
  result.failed_index = -1;
  result.problem.clear();
  return result;
}

}  // namespace samplan::audit
