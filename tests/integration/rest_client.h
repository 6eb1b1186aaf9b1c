// A REST client for the integration tests: curl, a real HTTP client, run
// over mutual TLS with the test PKI. Files go in the test's own directory.

#ifndef SAMPLAN_TESTS_INTEGRATION_REST_CLIENT_H_
#define SAMPLAN_TESTS_INTEGRATION_REST_CLIENT_H_

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"
#include "tests/integration/fixture.h"

namespace samplan::server {

struct Http {
  int curl_exit = -1;  // 0 when an HTTP answer arrived
  int status = 0;
  std::string head;
  std::string body;
};

struct HttpCall {
  HttpCall(std::string agency_, std::string method_, std::string target_,
           std::string body_ = "", std::string actor_ = "staff-1",
           std::string pki_ = "main")
      : agency(std::move(agency_)),
        method(std::move(method_)),
        target(std::move(target_)),
        body(std::move(body_)),
        actor(std::move(actor_)),
        pki(std::move(pki_)) {}
  std::string agency;  // the client certificate; empty sends none
  std::string method;  // "GET"
  std::string target;  // "/v1/plans?pageSize=5"
  std::string body;    // JSON; empty sends none
  std::string actor;   // x-samplan-actor; empty sends none
  std::string pki;     // which test PKI the certificate is from
};

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

class RestClient {
 public:
  RestClient(int port, std::filesystem::path dir)
      : port_(port), dir_(std::move(dir)) {}

  // One request, one curl process.
  Http Call(const HttpCall& call) {
    const std::string n = std::to_string(++calls_);
    const std::string body_file = (dir_ / ("body-" + n)).string();
    const std::string head_file = (dir_ / ("head-" + n)).string();
    std::string cmd =
        absl::StrCat(Base(call), " -o ", ShellQuote(body_file), " -D ",
                     ShellQuote(head_file), " -w '%{http_code}' ",
                     ShellQuote(Url(call.target)), " 2>/dev/null");
    Http http;
    std::string out;
    http.curl_exit = Run(cmd, &out);
    http.status = std::atoi(out.c_str());
    http.head = ReadFile(head_file);
    http.body = ReadFile(body_file);
    return http;
  }

  // The same request `times` times on one keep-alive connection (one curl
  // process): the HTTP status of each, in order.
  std::vector<int> Repeat(const HttpCall& call, int times) {
    const std::string config =
        (dir_ / ("urls-" + std::to_string(++calls_))).string();
    {
      std::ofstream out(config);
      for (int i = 0; i < times; ++i) {
        out << "url = \"" << Url(call.target) << "\"\noutput = \"/dev/null\"\n";
      }
    }
    std::string out;
    Run(absl::StrCat(Base(call), " -K ", ShellQuote(config),
                     " -w '%{http_code}\\n' 2>/dev/null"),
        &out);
    std::vector<int> codes;
    for (absl::string_view line :
         absl::StrSplit(out, '\n', absl::SkipEmpty())) {
      codes.push_back(std::atoi(std::string(line).c_str()));
    }
    return codes;
  }

 private:
  std::string Url(const std::string& target) const {
    return absl::StrCat("https://localhost:", port_, target);
  }

  std::string Base(const HttpCall& call) {
    std::string cmd =
        absl::StrCat("curl -sS --max-time 20 -X ", call.method, " --cacert ",
                     ShellQuote((PkiDir() / "main" / "ca.pem").string()));
    if (!call.agency.empty()) {
      const std::filesystem::path pki = PkiDir() / call.pki;
      absl::StrAppend(
          &cmd, " --cert ", ShellQuote((pki / (call.agency + ".pem")).string()),
          " --key ", ShellQuote((pki / (call.agency + ".key")).string()));
    }
    if (!call.actor.empty()) {
      absl::StrAppend(&cmd, " -H ",
                      ShellQuote("x-samplan-actor: " + call.actor));
    }
    if (!call.body.empty()) {
      const std::filesystem::path in = dir_ / ("in-" + std::to_string(calls_));
      std::ofstream(in) << call.body;
      absl::StrAppend(&cmd, " -H 'content-type: application/json'",
                      " --data-binary @", ShellQuote(in.string()));
    }
    return cmd;
  }

  // Runs `cmd`, its standard output into `out`; curl's exit code.
  static int Run(const std::string& cmd, std::string* out) {
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) return -1;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) out->append(buf, got);
    const int rc = pclose(pipe);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  const int port_;
  const std::filesystem::path dir_;
  int calls_ = 0;
};

// An error body (the JSON of a google.rpc.Status) as the gRPC status it
// maps, details included, so one inspection serves both transports.
inline grpc::Status GrpcStatusOf(const Http& http) {
  google::rpc::Status status;
  if (!google::protobuf::util::JsonStringToMessage(http.body, &status).ok()) {
    return grpc::Status(grpc::StatusCode::UNKNOWN,
                        "not a google.rpc.Status: " + http.body);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      status.message(), status.SerializeAsString());
}

}  // namespace samplan::server

#endif  // SAMPLAN_TESTS_INTEGRATION_REST_CLIENT_H_
