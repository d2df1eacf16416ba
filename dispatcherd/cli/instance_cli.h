/*
 * instance_cli.h - `arvados-dispatch-cloud instance list|kill|drain|hold|run [...]`, the admin
 * client of spec/dispatcher.md 7.3 (the reference's `arvados-server instance`).
 *
 * It reads the cluster config (-config, else $ARVADOS_CONFIG, else /etc/arvados/config.yml),
 * and calls the management API (7.2) on every Services.DispatchCloud.InternalURLs entry with
 * `Authorization: Bearer <ManagementToken>`. See docs/MANAGEMENT_API.md, "Command-line client".
 */
#ifndef ADC_INSTANCE_CLI_H
#define ADC_INSTANCE_CLI_H

#include <stdio.h>

/*
 * argv[0] is the subcommand (list, kill, drain, hold, run), the rest its flags and instance
 * IDs (Go flag syntax). prog is what usage texts call the command ("arvados-dispatch-cloud
 * instance"). Returns the exit status: 0; 1 (config, transport or HTTP failure, or an ID that
 * no server accepted); 2 (no subcommand, unknown subcommand, no instance IDs); 64 (a flag
 * error, as the reference's cmd.ParseFlags: EX_USAGE).
 */
int instance_cli_main(const char *prog, int argc, char **argv, FILE *out, FILE *err);

#endif
