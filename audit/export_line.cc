#include "audit/export_line.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "audit/enum_names.h"
#include "google/protobuf/timestamp.pb.h"
#include "samplan/v1/audit.pb.h"
#include "samplan/v1/common.pb.h"

namespace samplan::audit {
namespace {

// True when `s` is well-formed UTF-8: no overlong forms, no surrogates,
// nothing above U+10FFFF (what protobuf requires of a string field).
bool ValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      min = 0x80;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      min = 0x800;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

// The characters a string holds as they are: printable ASCII other than
// '"' and '\\'.
constexpr auto kOrdinary = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<size_t>(c)] = true;
  t['"'] = false;
  t['\\'] = false;
  return t;
}();

// A cursor over one line. Every method returns false on anything outside
// the printed form, leaving the position unspecified.
class Reader {
 public:
  explicit Reader(absl::string_view s) : s_(s) {}

  bool AtEnd() const { return i_ == s_.size(); }
  bool Peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++i_;
    return true;
  }

  // A string without escapes or control characters, of valid UTF-8.
  bool String(absl::string_view* out) {
    if (!Eat('"')) return false;
    const size_t start = i_;
    bool ascii = true;
    for (;;) {
      // Skip ordinary characters in a tight loop.
      while (i_ < s_.size() && kOrdinary[static_cast<unsigned char>(s_[i_])]) {
        ++i_;
      }
      if (i_ == s_.size()) return false;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') break;
      if (c < 0x80) return false;  // an escape or a control character
      ascii = false;
      ++i_;
    }
    *out = s_.substr(start, i_ - start);
    ++i_;  // the closing quote
    return ascii || ValidUtf8(*out);
  }

  // A member name and its colon.
  bool Key(absl::string_view* key) { return String(key) && Eat(':'); }

  // A bare non-negative decimal without leading zeros.
  bool Digits(absl::string_view* out) {
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    *out = s_.substr(start, i_ - start);
    if (out->empty() || out->size() > 19) return false;
    return out->size() == 1 || (*out)[0] != '0';
  }

  bool Int32(int32_t* out) {
    absl::string_view digits;
    int64_t v = 0;
    if (!Digits(&digits) || !absl::SimpleAtoi(digits, &v) || v > INT32_MAX) {
      return false;
    }
    *out = static_cast<int32_t>(v);
    return true;
  }

  // A quoted int64, as the printer writes int64 fields.
  bool QuotedInt64(int64_t* out) {
    absl::string_view digits;
    return Eat('"') && Digits(&digits) && Eat('"') &&
           absl::SimpleAtoi(digits, out);
  }

  bool Enum(const internal::EnumNames& names, int* out) {
    absl::string_view name;
    if (!String(&name)) return false;
    const std::optional<int> number = names.Number(name);
    if (!number.has_value()) return false;
    *out = *number;
    return true;
  }

  // "YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z", a valid UTC time.
  bool Timestamp(google::protobuf::Timestamp* out) {
    absl::string_view t;
    if (!String(&t)) return false;
    if (t.size() < 20 || t.back() != 'Z') return false;
    auto num = [&](size_t at, size_t len, int* v) {
      int n = 0;
      for (size_t k = at; k < at + len; ++k) {
        if (t[k] < '0' || t[k] > '9') return false;
        n = n * 10 + (t[k] - '0');
      }
      *v = n;
      return true;
    };
    int y, mo, d, h, mi, sec;
    if (!num(0, 4, &y) || t[4] != '-' || !num(5, 2, &mo) || t[7] != '-' ||
        !num(8, 2, &d) || t[10] != 'T' || !num(11, 2, &h) || t[13] != ':' ||
        !num(14, 2, &mi) || t[16] != ':' || !num(17, 2, &sec)) {
      return false;
    }
    int nanos = 0;
    const size_t fraction = t.size() - 20;  // between the seconds and 'Z'
    if (fraction != 0) {
      const size_t digits = fraction - 1;
      if (t[19] != '.' || (digits != 3 && digits != 6 && digits != 9) ||
          !num(20, digits, &nanos)) {
        return false;
      }
      for (size_t k = digits; k < 9; ++k) nanos *= 10;
    }
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) {
      return false;
    }
    const absl::CivilSecond cs(y, mo, d, h, mi, sec);
    if (cs.day() != d || cs.month() != mo) return false;  // 30 February
    out->set_seconds(
        absl::ToUnixSeconds(absl::FromCivil(cs, absl::UTCTimeZone())));
    out->set_nanos(nanos);
    return true;
  }

  // Standard padded base64 that re-encodes to itself.
  bool Bytes(std::string* out) {
    absl::string_view b64;
    return String(&b64) && absl::Base64Unescape(b64, out) &&
           absl::Base64Escape(*out) == b64;
  }

  // '[' item (',' item)* ']' or '[]'.
  template <typename F>
  bool Array(F&& item) {
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    do {
      if (!item()) return false;
    } while (Eat(','));
    return Eat(']');
  }

 private:
  absl::string_view s_;
  size_t i_ = 0;
};

// Members in field-number order, each once: `number` must be above `*last`.
bool InOrder(int number, int* last) {
  if (number <= *last) return false;
  *last = number;
  return true;
}

bool ParseEntryDecision(Reader& r, v1::EntryDecision* d) {
  if (!r.Eat('{')) return false;
  if (r.Eat('}')) return true;
  int last = 0;
  do {
    absl::string_view key;
    if (!r.Key(&key)) return false;
    absl::string_view text;
    int value = 0;
    if (key == "entry") {
      if (!InOrder(1, &last) || !r.String(&text)) return false;
      d->set_entry(text.data(), text.size());
    } else if (key == "ownerAgency") {
      if (!InOrder(2, &last) || !r.String(&text)) return false;
      d->set_owner_agency(text.data(), text.size());
    } else if (key == "category") {
      if (!InOrder(3, &last) ||
          !r.Enum(internal::EnumNames::InformationCategory(), &value)) {
        return false;
      }
      d->set_category(static_cast<v1::InformationCategory>(value));
    } else if (key == "decision") {
      if (!InOrder(4, &last) ||
          !r.Enum(internal::EnumNames::Decision(), &value)) {
        return false;
      }
      d->set_decision(static_cast<v1::Decision>(value));
    } else if (key == "reason") {
      if (!InOrder(5, &last) ||
          !r.Enum(internal::EnumNames::DecisionReason(), &value)) {
        return false;
      }
      d->set_reason(static_cast<v1::DecisionReason>(value));
    } else if (key == "grants") {
      if (!InOrder(6, &last) || !r.Array([&] {
            absl::string_view g;
            if (!r.String(&g)) return false;
            d->add_grants(g.data(), g.size());
            return true;
          })) {
        return false;
      }
    } else {
      return false;
    }
  } while (r.Eat(','));
  return r.Eat('}');
}

}  // namespace

bool ParseExportLine(absl::string_view line, v1::AuditEvent* event) {
  event->Clear();
  Reader r(line);
  if (!r.Eat('{')) return false;
  if (r.Eat('}')) return r.AtEnd();
  int last = 0;
  do {
    absl::string_view key;
    if (!r.Key(&key)) return false;
    absl::string_view text;
    int value = 0;
    // A string member, by field number.
    auto string_member = [&](int number, std::string* field) {
      if (!InOrder(number, &last) || !r.String(&text)) return false;
      field->assign(text.data(), text.size());
      return true;
    };
    bool ok = false;
    switch (key.empty() ? '\0' : key[0]) {
      case 'l':
        if (key == "leafIndex") {
          int64_t index = 0;
          ok = InOrder(1, &last) && r.QuotedInt64(&index);
          event->set_leaf_index(index);
        } else if (key == "leafHash") {
          ok = InOrder(14, &last) && r.Bytes(event->mutable_leaf_hash());
        } else if (key == "leafFormat") {
          int32_t format = 0;
          ok = InOrder(16, &last) && r.Int32(&format);
          event->set_leaf_format(format);
        }
        break;
      case 't':
        if (key == "time") {
          ok = InOrder(2, &last) && r.Timestamp(event->mutable_time());
        }
        break;
      case 'a':
        if (key == "agency") {
          ok = string_member(3, event->mutable_agency());
        } else if (key == "actor") {
          ok = string_member(4, event->mutable_actor());
        } else if (key == "action") {
          ok = InOrder(6, &last) &&
               r.Enum(internal::EnumNames::AuditAction(), &value);
          event->set_action(static_cast<v1::AuditAction>(value));
        }
        break;
      case 'c':
        if (key == "certificate") {
          ok = string_member(5, event->mutable_certificate());
        }
        break;
      case 's':
        if (key == "subject") {
          ok = string_member(7, event->mutable_subject());
        }
        break;
      case 'r':
        if (key == "resource") {
          ok = string_member(8, event->mutable_resource());
        } else if (key == "reasons") {
          ok = InOrder(10, &last) && r.Array([&] {
            int reason = 0;
            if (!r.Enum(internal::EnumNames::DecisionReason(), &reason)) {
              return false;
            }
            event->add_reasons(static_cast<v1::DecisionReason>(reason));
            return true;
          });
        } else if (key == "requestId") {
          ok = string_member(12, event->mutable_request_id());
        }
        break;
      case 'd':
        if (key == "decision") {
          ok = InOrder(9, &last) &&
               r.Enum(internal::EnumNames::Decision(), &value);
          event->set_decision(static_cast<v1::Decision>(value));
        } else if (key == "detail") {
          ok = string_member(13, event->mutable_detail());
        }
        break;
      case 'g':
        if (key == "grants") {
          ok = InOrder(11, &last) && r.Array([&] {
            absl::string_view g;
            if (!r.String(&g)) return false;
            event->add_grants(g.data(), g.size());
            return true;
          });
        }
        break;
      case 'e':
        if (key == "entryDecisions") {
          ok = InOrder(15, &last) && r.Array([&] {
            return ParseEntryDecision(r, event->add_entry_decisions());
          });
        }
        break;
      default:
        break;
    }
    if (!ok) return false;
  } while (r.Eat(','));
  return r.Eat('}') && r.AtEnd();
}

}  // namespace samplan::audit
