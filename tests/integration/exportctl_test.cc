// exportctl against the real exportd: export --wait --download verifies every file, the
// commands' --json output, every exit code (2 usage, 3 not found, 4 auth, 5 unreachable,
// 1 a failed or cancelled export and a download that does not verify), the profile file's
// mode rule, a download resumed with Range, and the progress bar on a pseudo-terminal.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

class ExportctlTest : public ExportdTest {
 protected:
  // The environment exportctl runs with: PATH, a HOME of its own (no profile unless a test
  // writes one), EXPORTD_URL and EXPORTD_TOKEN of the running server unless `env` says otherwise
  // (an empty value leaves the variable out).
  std::vector<std::string> Env(std::map<std::string, std::string> env) const {
    std::map<std::string, std::string> all = {{"PATH", "/usr/bin:/bin"}, {"HOME", home_.path()}};
    if (server_) {
      all["EXPORTD_URL"] = server_->base_url();
      all["EXPORTD_TOKEN"] = server_->admin_key();
    }
    for (auto& [k, v] : env) all[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : all) {
      if (!v.empty()) out.push_back(k + "=" + v);
    }
    return out;
  }

  static std::vector<char*> Argv(std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return argv;
  }

  // Runs exportctl ARGS with stdout and stderr to files (not a terminal).
  CommandResult Ctl(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                    Clock::duration timeout = seconds(60)) {
    args.insert(args.begin(), EXPORTCTL_BINARY);
    std::vector<std::string> envs = Env(std::move(env));
    const std::string out_path = home_.path() + "/out.txt";
    const std::string err_path = home_.path() + "/err.txt";
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int in = ::open("/dev/null", O_RDONLY);
      if (out < 0 || err < 0 || in < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> argv = Argv(args);
      std::vector<char*> envp = Argv(envs);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    CommandResult result;
    result.exit_code = Reap(pid, timeout);
    result.out = ReadFileOrEmpty(out_path);
    result.err = ReadFileOrEmpty(err_path);
    return result;
  }

  // Runs exportctl ARGS on a pseudo-terminal of 100 columns; everything it wrote. With
  // `interrupt_after`, types Ctrl-C once the output holds that text.
  CommandResult CtlOnTerminal(std::vector<std::string> args,
                              const std::string& interrupt_after = "",
                              Clock::duration timeout = seconds(60)) {
    args.insert(args.begin(), EXPORTCTL_BINARY);
    std::vector<std::string> envs = Env({{"TERM", "xterm"}});
    winsize size{};
    size.ws_row = 24;
    size.ws_col = 100;
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid == 0) {
      std::vector<char*> argv = Argv(args);
      std::vector<char*> envp = Argv(envs);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    CommandResult result;
    if (pid < 0) return result;
    const Clock::time_point deadline = Clock::now() + timeout;
    char buf[4096];
    bool interrupted = false;
    while (Clock::now() < deadline) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(master, buf, sizeof(buf));
      if (n <= 0) break;  // EIO: the child closed the terminal
      result.out.append(buf, static_cast<size_t>(n));
      if (!interrupted && !interrupt_after.empty() &&
          result.out.find(interrupt_after) != std::string::npos) {
        EXPECT_EQ(::write(master, "\x03", 1), 1);
        interrupted = true;
      }
    }
    result.exit_code = Reap(pid, seconds(5));
    ::close(master);
    return result;
  }

  static int Reap(pid_t pid, Clock::duration timeout) {
    int status = 0;
    const bool exited = WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static Json ParseJson(const CommandResult& r) {
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out << r.err;
    return j;
  }

  // Every file of `task` is in `dir` with the task's sha256 and size; no NAME.part is left.
  static void ExpectFilesVerify(const Json& task, const std::string& dir) {
    ASSERT_FALSE(task["files"].empty()) << task.dump();
    for (const Json& f : task["files"]) {
      const std::string path = dir + "/" + f.value("name", "");
      const std::string bytes = ReadFileOrEmpty(path);
      EXPECT_EQ(Sha256Hex(bytes), f.value("sha256", "")) << path;
      EXPECT_EQ(static_cast<int64_t>(bytes.size()), f.value("bytes", int64_t{-1})) << path;
      EXPECT_FALSE(fs::exists(path + ".part")) << path;
    }
    EXPECT_TRUE(fs::exists(dir + "/manifest.json"));
  }

  TempDir home_;
  TempDir downloads_;
};

TEST_F(ExportctlTest, ExportWaitDownloadVerifiesEveryFile) {
  ASSERT_TRUE(StartWithItems(1000));
  const std::string dir = downloads_.path() + "/out";
  CommandResult r = Ctl({"export", "items", "--max-rows-per-file", "300", "--filter",
                         "qty not-null", "--tag", "ctl", "--wait", "--download", dir});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Not a terminal: plain lines, no carriage returns.
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Succeeded 100%"), std::string::npos) << r.out;
  ASSERT_EQ(r.out.rfind("export ", 0), 0u) << r.out;
  const std::string id = r.out.substr(7, r.out.find('\n') - 7);

  Json task = GetTask(*api_, id);
  ASSERT_EQ(task.value("status", ""), "Succeeded") << task.dump();
  EXPECT_EQ(task.value("tag", ""), "ctl");
  // The canonical request lists the conditions.
  EXPECT_EQ(task["request"]["filter"],
            Json::parse(R"([{"field": "qty", "op": "null", "value": false}])"))
      << task["request"].dump();
  EXPECT_GE(task["files"].size(), 2u);
  ExpectFilesVerify(task, dir);

  std::vector<std::string> contents;
  std::vector<int64_t> rows;
  for (const Json& f : task["files"]) {
    contents.push_back(ReadFileOrEmpty(dir + "/" + f.value("name", "")));
    rows.push_back(f.value("rows", int64_t{0}));
  }
  const auto problems = ValidateExport("csv", contents, rows, ExpectedItems({}, "qty IS NOT NULL"));
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);

  // Again: every file is already there and verifies; nothing is fetched twice.
  r = Ctl({"download", id, "--dir", dir});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("already there"), std::string::npos) << r.out;
}

TEST_F(ExportctlTest, CommandsPrintTheServersJson) {
  // 200 rows/s: an export of 2000 rows runs long enough to be cancelled.
  ASSERT_TRUE(StartWithItems(2000, {{"workers", 1}, {"max_rows_per_second", 200}}));
  CommandResult r = Ctl({"datasets", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json datasets = ParseJson(r);
  ASSERT_EQ(datasets["items"].size(), 1u) << r.out;
  EXPECT_EQ(datasets["items"][0].value("name", ""), "items");

  r = Ctl({"--json", "export", "items", "--format", "ndjson", "--field", "id", "--field", "name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json created = ParseJson(r);
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty()) << r.out;
  EXPECT_EQ(created["request"]["fields"], Json::array({"id", "name"}));

  r = Ctl({"status", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJson(r).value("id", ""), id);
  r = Ctl({"status", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(id), std::string::npos);

  r = Ctl({"list", "--json", "--dataset", "items", "--limit", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json page = ParseJson(r);
  ASSERT_FALSE(page["items"].empty()) << r.out;
  EXPECT_EQ(page["items"][0].value("id", ""), id);
  r = Ctl({"list", "--json", "--status", "Succeeded"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json succeeded = ParseJson(r);
  for (const Json& t : succeeded["items"]) EXPECT_NE(t.value("id", ""), id);

  r = Ctl({"cancel", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJson(r).value("id", ""), id);
  // watch of a cancelled export: exit 1.
  r = Ctl({"watch", id});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("Cancelled"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Cancelled"), std::string::npos) << r.err;
  // A second cancel: 409, exit 1, one line on stderr.
  r = Ctl({"cancel", id});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("HTTP 409"), std::string::npos) << r.err;

  r = Ctl({"rm", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json removed = ParseJson(r);
  EXPECT_EQ(removed.value("id", ""), id);
  EXPECT_TRUE(removed["files"].empty()) << r.out;
}

TEST_F(ExportctlTest, ExitCodes) {
  ASSERT_TRUE(StartWithItems(50));
  // 2: usage (a bad flag, a bad filter, the server's 422)
  CommandResult r = Ctl({"list", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Ctl({"export", "items", "--filter", "qty ~ 3"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--filter 'qty ~ 3'"), std::string::npos) << r.err;
  r = Ctl({"export", "items", "--field", "no_such_field"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("HTTP 422"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = Ctl({});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // --help documents the exit codes, and exits 0.
  r = Ctl({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("5  server unreachable"), std::string::npos) << r.out;

  // 3: not found
  r = Ctl({"status", "01JD0000000000000000000000"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;

  // 4: auth (flag beats environment)
  r = Ctl({"--token", "xd_wrong", "list"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;

  // 5: nothing listening
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(PickFreePort());
  r = Ctl({"list"}, {{"EXPORTD_URL", nowhere}});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("cannot reach"), std::string::npos) << r.err;

  // 1: a failed export (a column renamed in the source, as in schema_drift_test).
  ExecSql(source_path(), "ALTER TABLE items RENAME COLUMN name TO title");
  r = Ctl({"export", "items", "--wait"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("Failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("failed_precondition"), std::string::npos) << r.err;
  const std::string failed = r.out.substr(7, r.out.find('\n') - 7);
  r = Ctl({"download", failed, "--dir", downloads_.path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  r = Ctl({"status", failed});  // status reports; it does not judge
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(ExportctlTest, TheProfileFileIsReadOnlyWhenPrivate) {
  ASSERT_TRUE(StartWithItems(10));
  const std::string profile_dir = home_.path() + "/.config/exportd";
  fs::create_directories(profile_dir);
  const std::string profile = profile_dir + "/config";
  WriteFile(profile, "# exportctl\nurl = " + server_->base_url() +
                         "\ntoken = " + server_->admin_key() + "\n");
  const std::map<std::string, std::string> no_env = {{"EXPORTD_URL", ""}, {"EXPORTD_TOKEN", ""}};

  ASSERT_EQ(::chmod(profile.c_str(), 0644), 0);
  CommandResult r = Ctl({"list"}, no_env);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;

  ASSERT_EQ(::chmod(profile.c_str(), 0600), 0);
  r = Ctl({"list", "--json"}, no_env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The environment beats the file.
  r = Ctl({"list"}, {{"EXPORTD_URL", ""}, {"EXPORTD_TOKEN", "xd_wrong"}});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
}

TEST_F(ExportctlTest, ADownloadResumesWithRangeAndNeverKeepsAWrongFile) {
  ASSERT_TRUE(StartWithItems(600));
  const std::string dir = downloads_.path();
  CommandResult r = Ctl({"export", "items", "--max-rows-per-file", "200", "--download", dir});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string id = r.out.substr(7, r.out.find('\n') - 7);
  const Json task = GetTask(*api_, id);
  ASSERT_GE(task["files"].size(), 2u) << task.dump();
  const Json& second = task["files"][1];
  const std::string name = second.value("name", "");
  const std::string path = dir + "/" + name;
  const std::string whole = ReadFileOrEmpty(path);
  ASSERT_EQ(Sha256Hex(whole), second.value("sha256", ""));

  // Half of it left as NAME.part: download asks for the rest only.
  const size_t kept = whole.size() / 2;
  fs::remove(path);
  WriteFile(path + ".part", whole.substr(0, kept));
  r = Ctl({"download", id, "--dir", dir});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("resumed from byte " + std::to_string(kept)), std::string::npos) << r.out;
  ExpectFilesVerify(task, dir);
  // The server sent only the missing bytes (its audit trail counts them).
  const int64_t rest = static_cast<int64_t>(whole.size() - kept);
  EXPECT_TRUE(WaitFor(
      [&] {
        for (const Json& e : EventsOfType(GetEvents(*api_, id), "download")) {
          if (e.value("file", "") == name && e.value("bytes", int64_t{-1}) == rest) return true;
        }
        return false;
      },
      seconds(5)))
      << GetEvents(*api_, id).dump();

  // A NAME.part that is not a prefix of the file: the result does not verify, exit 1, and
  // neither NAME nor NAME.part is left.
  fs::remove(path);
  WriteFile(path + ".part", std::string(kept, 'x'));
  r = Ctl({"download", id, "--dir", dir});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("does not verify"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".part"));
  // The next run fetches it whole.
  r = Ctl({"download", id, "--dir", dir});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectFilesVerify(task, dir);
}

TEST_F(ExportctlTest, ASplitExportDownloadsIntoPartitionDirectories) {
  ASSERT_TRUE(StartWithItems(200));
  const std::string id = CreateExport(
      *api_, {{"dataset", "items"}, {"split_by", "partition"}, {"max_rows_per_file", 30}});
  ASSERT_FALSE(id.empty());
  CommandResult r = Ctl({"watch", id});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Ctl({"download", id, "--dir", downloads_.path()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json task = GetTask(*api_, id);
  for (const Json& f : task["files"]) {
    const std::string name = f.value("name", "");
    EXPECT_EQ(std::count(name.begin(), name.end(), '/'), 1) << f.dump();
  }
  ExpectFilesVerify(task, downloads_.path());
}

TEST_F(ExportctlTest, SchedulesAndWatermarks) {
  ASSERT_TRUE(StartWithItems(20));
  CommandResult r = Ctl({"--json", "schedules", "create", "--name", "nightly", "--cron",
                         "0 10 * * *", "--time-zone", "America/Los_Angeles", "items",
                         "--incremental", "--export-type", "daily", "--format", "ndjson"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json created = ParseJson(r);
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty()) << r.out;
  EXPECT_EQ(created["request"].value("format", ""), "ndjson") << r.out;
  EXPECT_EQ(created["next_runs"].size(), 5u) << r.out;

  r = Ctl({"schedules", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseJson(r)["items"].size(), 1u) << r.out;
  r = Ctl({"schedules", "pause", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(ParseJson(r).value("enabled", true)) << r.out;
  r = Ctl({"schedules", "resume", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Ctl({"schedules", "show", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ParseJson(r).value("enabled", false)) << r.out;
  r = Ctl({"schedules", "run", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string task = ParseJson(r).value("id", "");
  ASSERT_FALSE(task.empty()) << r.out;
  r = Ctl({"watch", task});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Ctl({"schedules", "rm", id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Ctl({"schedules", "show", id});
  EXPECT_EQ(r.exit_code, 3) << r.err;

  r = Ctl({"watermarks", "set", "items", "north", "2026-01-31T00:00:00Z", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ParseJson(r).value("watermark", ""), "2026-01-31T00:00:00.000Z") << r.out;
  r = Ctl({"watermarks", "list", "items", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool north = false;
  const Json watermarks = ParseJson(r);
  for (const Json& w : watermarks["items"]) north |= w.value("partition", "") == "north";
  EXPECT_TRUE(north) << r.out;
  r = Ctl({"watermarks", "rm", "items", "north"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Ctl({"watermarks", "rm", "items", "north"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

TEST_F(ExportctlTest, AWatchOutlastsARestartOfTheServer) {
  // 300 rows/s: the export runs for seconds, across a stop (drain) and a start.
  ASSERT_TRUE(StartWithItems(1500, {{"max_rows_per_second", 300}}));
  const std::string id = CreateExport(*api_, {{"dataset", "items"}, {"max_rows_per_file", 100}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitForProcessingRows(*api_, id, 100, seconds(20)));
  std::future<CommandResult> watch = std::async(std::launch::async, [&] {
    return Ctl({"watch", id}, {}, seconds(90));
  });
  // Its first line: the watch has had an answer (before any, not reachable is final: exit 5).
  ASSERT_TRUE(
      WaitFor([&] { return !ReadFileOrEmpty(home_.path() + "/out.txt").empty(); }, seconds(10)));
  ASSERT_EQ(server_->Stop(), 0);
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  const CommandResult r = watch.get();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Succeeded 100%"), std::string::npos) << r.out;
}

TEST_F(ExportctlTest, TheProgressBarRedrawsOneLineOnATerminal) {
  // 1000 rows/s: about 3 s, a few polls.
  ASSERT_TRUE(StartWithItems(3000, {{"max_rows_per_second", 1000}}));
  CommandResult r = CtlOnTerminal({"export", "items", "--max-rows-per-file", "500", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\rProcessing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\x1b[K"), std::string::npos) << r.out;  // clears the line's rest
  EXPECT_NE(r.out.find("rows/s"), std::string::npos) << r.out;
  const std::string final_line =
      "\rSucceeded [" + std::string(30, '#') + "] 100%  3,000/3,000 rows";
  EXPECT_NE(r.out.find(final_line), std::string::npos) << r.out;
  // One updating line: after the id, no newline until the end.
  const size_t first_bar = r.out.find('\r', r.out.find('\n'));
  ASSERT_NE(first_bar, std::string::npos);
  const std::string bar = r.out.substr(first_bar);
  EXPECT_EQ(std::count(bar.begin(), bar.end(), '\n'), 1) << r.out;
  EXPECT_GE(std::count(bar.begin(), bar.end(), '\r'), 3) << r.out;  // redrawn, several times
}

TEST_F(ExportctlTest, CtrlCEndsTheBarsLine) {
  ASSERT_TRUE(StartWithItems(3000, {{"max_rows_per_second", 300}}));
  CommandResult r = CtlOnTerminal({"export", "items", "--wait"}, "\rProcessing [");
  EXPECT_EQ(r.exit_code, 130) << r.out;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n') << r.out;
}

}  // namespace
}  // namespace exportd::itest
