// exportd: the export-job service and its operator commands.
//
//   exportd [serve] [--config PATH] [--listen HOST:PORT] [--data-dir DIR] [--workers N]
//           [--threads-per-export N]
//   exportd keys create --name NAME [--admin]
//   exportd keys list
//   exportd keys revoke KEY_ID
//   exportd verify TASK_ID [--source]
//   exportd backup --to FILE
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "server/app.h"
#include "server/backup_command.h"
#include "server/config.h"
#include "server/key_commands.h"
#include "server/logging.h"
#include "server/verify.h"

namespace exportd {
extern const char* const kOpenApiYaml;
}  // namespace exportd

namespace {

struct CommonFlags {
  std::string config_path;
  std::string listen;
  std::string data_dir;
  int workers = 0;
  int threads_per_export = 0;
  std::string log_level;
  std::string log_format;
  std::string tls_cert;
  std::string tls_key;
  bool accept_empty_store = false;
};

void AddCommonFlags(CLI::App& app, CommonFlags& flags) {
  app.add_option("-c,--config", flags.config_path, "JSON configuration file")
      ->check(CLI::ExistingFile);
  app.add_option("--data-dir", flags.data_dir, "Data directory (env EXPORTD_DATA_DIR)");
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error|off");
  app.add_option("--log-format", flags.log_format, "text|json");
}

// File, then environment, then flags.
exportd::Result<exportd::Config> BuildConfig(const CommonFlags& flags) {
  exportd::Config config;
  if (!flags.config_path.empty()) {
    ASSIGN_OR_RETURN(config, exportd::LoadConfigFile(flags.config_path));
  }
  RETURN_IF_ERROR(exportd::ApplyEnvironment(config, exportd::ProcessEnv()));
  if (!flags.listen.empty()) config.listen = flags.listen;
  if (!flags.data_dir.empty()) config.data_dir = flags.data_dir;
  if (flags.workers > 0) config.workers = flags.workers;
  if (flags.threads_per_export > 0) config.threads_per_export = flags.threads_per_export;
  if (!flags.log_level.empty()) config.log_level = flags.log_level;
  if (!flags.log_format.empty()) config.log_format = flags.log_format;
  if (!flags.tls_cert.empty()) config.tls_cert = flags.tls_cert;
  if (!flags.tls_key.empty()) config.tls_key = flags.tls_key;
  config.accept_empty_store = flags.accept_empty_store;
  RETURN_IF_ERROR(exportd::Validate(config));
  return config;
}

int Fail(const exportd::Status& status) {
  std::cerr << "exportd: " << status.ToString() << "\n";
  return status.code() == exportd::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread exists; the server's signal watcher waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{"exportd: a REST service that turns data requests into durable export tasks"};
  app.set_version_flag("--version", std::string("exportd " EXPORTD_VERSION));
  app.require_subcommand(0, 1);
  CommonFlags flags;
  AddCommonFlags(app, flags);

  CLI::App* serve = app.add_subcommand("serve", "Run the service (the default)");
  for (CLI::App* target : {&app, serve}) {
    if (target == serve) AddCommonFlags(*serve, flags);
    target->add_option("-l,--listen", flags.listen, "HOST:PORT to listen on (env EXPORTD_LISTEN)");
    target->add_option("-w,--workers", flags.workers, "Concurrent exports (env EXPORTD_WORKERS)")
        ->check(CLI::Range(1, 256));
    target
        ->add_option("--threads-per-export", flags.threads_per_export,
                     "Threads that decode and format the rows of each export (env "
                     "EXPORTD_THREADS_PER_EXPORT)")
        ->check(CLI::Range(1, 64));
    target
        ->add_option("--tls-cert", flags.tls_cert,
                     "PEM certificate chain: serve HTTPS (env EXPORTD_TLS_CERT)")
        ->check(CLI::ExistingFile);
    target
        ->add_option("--tls-key", flags.tls_key,
                     "PEM private key of --tls-cert (env EXPORTD_TLS_KEY)")
        ->check(CLI::ExistingFile);
    target->add_flag("--accept-empty-store", flags.accept_empty_store,
                     "Start although the task store is empty while DATA_DIR/exports holds task "
                     "directories (they are moved aside); see docs/backup.md");
  }

  CLI::App* keys = app.add_subcommand("keys", "Manage API keys");
  keys->require_subcommand(1);
  AddCommonFlags(*keys, flags);
  std::string key_name;
  bool key_admin = false;
  std::string key_role = "exporter";
  std::string key_id;
  CLI::App* create = keys->add_subcommand("create", "Create a key; prints its secret once");
  create->add_option("--name", key_name, "A label for the key")->required();
  create
      ->add_option("--role", key_role,
                   "reader (read own tasks, download), exporter (also create, cancel; the "
                   "default) or admin (everything, every principal)")
      ->check(CLI::IsMember({"reader", "exporter", "admin"}));
  create->add_flag("--admin", key_admin, "Same as --role admin");
  CLI::App* list = keys->add_subcommand("list", "List keys (never their secrets)");
  CLI::App* revoke = keys->add_subcommand("revoke", "Revoke a key at once");
  revoke->add_option("key_id", key_id, "The id shown by 'keys list'")->required();
  // --config / --data-dir / --log-level may follow the leaf command too.
  for (CLI::App* leaf : {create, list, revoke}) leaf->fallthrough();
  keys->fallthrough();

  CLI::App* verify =
      app.add_subcommand("verify", "Check a Succeeded task's files: exit 0 if all match");
  AddCommonFlags(*verify, flags);
  std::string verify_task_id;
  bool verify_source = false;
  verify->add_option("task_id", verify_task_id, "The task to check")->required();
  verify->add_flag("--source", verify_source, "Also regenerate every file from the dataset");
  verify->fallthrough();

  CLI::App* backup =
      app.add_subcommand("backup", "Copy the task store (consistent while exportd runs)");
  AddCommonFlags(*backup, flags);
  std::string backup_to;
  backup->add_option("--to", backup_to, "The new file (must not exist)")->required();
  backup->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return verify->parsed() && code != 0 ? 2 : code;  // verify's usage errors exit 2
  }

  exportd::Result<exportd::Config> config = BuildConfig(flags);
  if (!config.ok()) return Fail(config.status());
  exportd::SetUpLogging(config->log_level, config->log_format);

  if (verify->parsed()) {
    return exportd::VerifyCommand(*config, verify_task_id, verify_source, std::cout, std::cerr);
  }
  exportd::Status status;
  if (create->parsed()) {
    const exportd::Role role =
        key_admin ? exportd::Role::kAdmin : *exportd::ParseRole(key_role);  // checked by CLI11
    status = exportd::CreateKeyCommand(*config, key_name, role);
  } else if (list->parsed()) {
    status = exportd::ListKeysCommand(*config);
  } else if (revoke->parsed()) {
    status = exportd::RevokeKeyCommand(*config, key_id);
  } else if (backup->parsed()) {
    status = exportd::BackupCommand(*config, backup_to);
  } else {
    status = exportd::RunServer(*config, exportd::kOpenApiYaml);
  }
  if (!status.ok()) return Fail(status);
  return 0;
}
