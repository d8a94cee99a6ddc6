// exportctl's command line (CLI11): the commands, their flags and the exit codes of --help.
#ifndef EXPORTD_SERVER_EXPORTCTL_CLI_H_
#define EXPORTD_SERVER_EXPORTCTL_CLI_H_

namespace exportd::ctl {

// Parses argv, runs the command, prints errors on stderr; returns the process's exit code.
int RunCli(int argc, char** argv);

}  // namespace exportd::ctl

#endif  // EXPORTD_SERVER_EXPORTCTL_CLI_H_
