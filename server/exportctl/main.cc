// exportctl: the command-line client of exportd (docs/exportctl.md).
#include "server/exportctl/cli.h"

int main(int argc, char** argv) { return exportd::ctl::RunCli(argc, argv); }
