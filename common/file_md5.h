/*
 * file_md5.h - the md5 of a whole file, as the runner binary's name and check use it
 * (crunch-run~<md5>): dispatcherd hashes the DeployRunnerBinary it opened, sshd-pool checks
 * the fd it was sent against the md5 it was told.
 */
#ifndef ADC_FILE_MD5_H
#define ADC_FILE_MD5_H

/* Lower-case md5 hex of everything fd holds (pread from offset 0; the offset is left alone).
 * 0 or -errno. */
int file_md5_hex(int fd, char hex[33]);

#endif
