// SPDX-License-Identifier: Apache-2.0
// python: CPython's multiprocessing.get_context("fork").Pool(workers), run
// as `<python> process_peer.py <case> ...` (no shell), one interpreter per
// repetition, which times its own work with time.perf_counter() and prints
// "result,<name>,<seconds>".
#include "process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace lox_bench::process {
namespace {

struct PeerOutput {
  std::map<std::string, double> results;
  std::vector<std::string> info;
};

// Runs `python peer_script args...` (no shell), waits for it, parses its
// "result,<name>,<value>" lines. Throws with its exit status otherwise.
PeerOutput run_peer(const Options& o, const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {o.python, o.peer_script};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + o.python + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string cmd;
  for (auto& s : argv_s) cmd += (cmd.empty() ? "" : " ") + s;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("'" + cmd + "' " +
                             (WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                                : "killed by signal " + std::to_string(WTERMSIG(status))) +
                             " (its stderr is in this program's stderr)");
  PeerOutput po;
  std::istringstream ls(out);
  std::string line;
  while (std::getline(ls, line)) {
    if (line.rfind("result,", 0) == 0) {
      size_t c = line.find(',', 7);
      if (c == std::string::npos) continue;
      po.results[line.substr(7, c - 7)] = std::strtod(line.c_str() + c + 1, nullptr);
    } else if (line.rfind("info,", 0) == 0) {
      po.info.push_back(line.substr(5));
    }
  }
  return po;
}

double peer_result(const PeerOutput& po, const std::string& name) {
  auto it = po.results.find(name);
  if (it == po.results.end()) throw std::runtime_error("the Python side printed no 'result," + name + "' line");
  return it->second;
}

}  // namespace

Runner python_tiny(const Options& o, TinyTasks& t) {
  return {"python",
          {"python apply_async all + get", "python starmap (default chunksize)"},
          [&o, &t](Meter&, const std::string&, std::vector<double>& v) {
            const double n = static_cast<double>(t.n);
            PeerOutput po = run_peer(o, {"a", "--tasks", std::to_string(t.n)});
            v[0] = peer_result(po, "apply_async") * 1e9 / n;
            v[1] = peer_result(po, "starmap") * 1e9 / n;
            if (!po.info.empty()) t.chunk_info = po.info[0];
          }};
}

Runner python_spin(const Options& o, SpinTasks& t) {
  return {"python",
          {"python serial", "python Pool apply_async + get"},
          [&o, &t](Meter&, const std::string&, std::vector<double>& v) {
            PeerOutput po = run_peer(o, {"b", "--iters", std::to_string(t.py_iters), "--tasks", std::to_string(t.n)});
            v[0] = peer_result(po, "serial") * 1e3;
            v[1] = peer_result(po, "pool") * 1e3;
          }};
}

Runner python_echo(const Options& o, Echo& e) {
  return {"python", {"python apply_async echo + get"}, [&o, &e](Meter&, const std::string&, std::vector<double>& v) {
            PeerOutput po = run_peer(o, {"c", "--size", std::to_string(e.size), "--count", std::to_string(e.count)});
            v[0] = peer_result(po, "echo") * 1e9 / e.moved;
          }};
}

Runner python_start(const Options& o, Start& s) {
  return {"python", {"python Pool(2) + first apply"}, [&o, &s](Meter&, const std::string&, std::vector<double>& v) {
            PeerOutput po = run_peer(o, {"d"});
            v[0] = peer_result(po, "start") * 1e6;
            s.close_us.push_back(peer_result(po, "close_join") * 1e6);
          }};
}

uint64_t python_calibrate_spin(const Options& o) {
  WatchScope w("b / python calibration");
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.6f", o.b_seconds);
  return static_cast<uint64_t>(peer_result(run_peer(o, {"calibrate-b", "--seconds", secs}), "iters"));
}

// The interpreter's version, from the interpreter itself.
std::string python_version(const Options& o) {
  std::string version = "not run";
  std::string cmd = o.python + " -c 'import sys; print(sys.version.split()[0])' 2>/dev/null";
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) {
      version = buf;
      while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) version.pop_back();
    }
    pclose(f);
  }
  return version;
}

}  // namespace lox_bench::process
