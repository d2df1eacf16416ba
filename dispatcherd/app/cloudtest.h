/*
 * cloudtest.h - `arvados-dispatch-cloud cloudtest`: the reference's `arvados-server
 * cloudtest` (spec cloud-drivers.md section 6) through the same privilege-separated
 * helpers as the dispatcher: cloudd creates, lists and destroys the test instance,
 * sshd-pool verifies it and runs the boot probe (and -command) on it.
 */
#ifndef ADC_CLOUDTEST_H
#define ADC_CLOUDTEST_H

/* argv[0] is the program; argv[1..] the flags after "cloudtest". Exit status: 0 every check
 * passed, 1 a check failed or an error, 2 a usage error (0 for -help). */
int cloudtest_main(int argc, char **argv, const char *argv0);

#endif
